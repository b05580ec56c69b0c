"""Daily partitions: partition ``D`` is the nightly run that scores everything up to the end of
day ``D`` (UTC). Today is a valid partition too (``end_offset=1``) so a run by hand can score
up to now; the nightly schedule runs yesterday's partition once the day is over."""

import dagster as dg

from pipelines.defaults import FIRST_DAY

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(),
                                                end_offset=1)
