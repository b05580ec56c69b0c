"""Where a run reads and writes by default, and the stance models it can use.

Kept apart from ``pipelines.resources`` (which imports Dagster) so that the ``advocates``
command starts quickly, and so do the stance workers it spawns: a spawned worker imports the
module the command was started from.
"""

from datetime import date

DEFAULT_INPUT_DIR = "data/sample"
DEFAULT_DB = "out/advocates.duckdb"
DEFAULT_REPORT_DIR = "out/report"
STANCE_MODELS = ("classifier", "lexicon")
# The first daily partition: early enough for any export of a platform still running (Reddit
# began in 2005).
FIRST_DAY = date(2005, 1, 1)
