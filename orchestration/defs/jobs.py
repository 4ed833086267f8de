"""The refresh job and its daily schedule."""

from __future__ import annotations

import dagster as dg

# Where a run came from, on every run we start: `make run` (orchestration/cli.py) and the schedule set it. Runs
# launched from the Dagster UI carry Dagster's own tag dagster/from_ui=true (the UI adds it to every launch).
STARTED_BY_TAG = "healthscore/started_by"
STARTED_BY_CLI = "make run"
STARTED_BY_SCHEDULE = "schedule"

# One process, steps in order: DuckDB allows a single writer, and process start-up dominates small runs.
refresh_all_job = dg.define_asset_job(
    name="refresh_all",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Loads every landed source and rebuilds, tests and scores everything downstream.",
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_all_job,
    cron_schedule="0 5 * * *",
    execution_timezone="Europe/Berlin",
    tags={STARTED_BY_TAG: STARTED_BY_SCHEDULE},
    description="Refreshes all scores every morning before the customer-success team starts.",
)
