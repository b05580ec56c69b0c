"""Where a run reads and writes by default, and the stance models it can use.

Kept apart from ``pipelines.resources`` (which imports Dagster) so that the ``advocates``
command starts quickly, and so do the stance workers it spawns: a spawned worker imports the
module the command was started from.
"""

DEFAULT_INPUT_DIR = "data/sample"
DEFAULT_DB = "out/advocates.duckdb"
DEFAULT_REPORT_DIR = "out/report"
STANCE_MODELS = ("classifier", "lexicon")
