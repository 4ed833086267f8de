"""Command line front door used by the Makefile.

python -m orchestration.cli run [--as-of YYYY-MM-DD]   refresh everything through Dagster, print a summary
python -m orchestration.cli summary                    print the summary of the current warehouse
python -m orchestration.cli prepare                    parse the dbt project so that the definitions can load
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path


def _run(as_of: str, rebuild_history: bool) -> int:
    import dagster as dg

    from orchestration.defs.dbt.project import prepare_manifest
    from orchestration.settings import load_settings

    load_settings()
    # The manifest must describe the current models before the definitions load.
    prepare_manifest()
    from orchestration.definitions import defs, settings
    from orchestration.summary import render_summary

    job = defs.resolve_job_def("refresh_all")
    run_config = {
        "ops": {"healthscore_dbt_assets": {"config": {"score_as_of_date": as_of, "rebuild_history": rebuild_history}}},
        # The full event log is in the Dagster UI; the terminal gets the checks, failures and the summary.
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    with dg.DagsterInstance.get() as instance:
        log_path = Path(os.environ["DAGSTER_HOME"]) / "last_refresh.log"
        print(f"Refreshing {settings.warehouse_path} from {settings.landing_dir} (dbt output: {log_path}) ...")
        with log_path.open("w") as log, contextlib.redirect_stdout(log):
            result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False)
    from orchestration.summary import render_checks

    print(render_checks(result.get_asset_check_evaluations()))
    print()
    if not result.success:
        for event in result.all_events:
            if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                failure = event.step_failure_data
                reason = failure.user_failure_data.description if failure.user_failure_data else None
                print(f"FAILED {event.step_key}: {(reason or failure.error.message).strip()}", file=sys.stderr)
        print(f"Run {result.run_id} failed; details in the Dagster UI (make dev).", file=sys.stderr)
        return 1
    print(f"Run {result.run_id} succeeded; scores published to {settings.serving_path}.\n")
    print(render_summary(settings.serving_path))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialise every asset and print a summary")
    run.add_argument("--as-of", default="", help="day to score (ISO date); default: latest usage day")
    run.add_argument(
        "--rebuild-history", action="store_true", help="rescore the whole daily history with the current configuration"
    )
    commands.add_parser("summary", help="print the summary of the published scores")
    commands.add_parser("prepare", help="parse the dbt project (the Dagster definitions load from its manifest)")
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args.as_of, args.rebuild_history)
    if args.command == "prepare":
        from orchestration.defs.dbt.project import prepare_manifest
        from orchestration.settings import load_settings

        load_settings()
        print(f"dbt manifest written to {prepare_manifest()}")
        return 0
    from orchestration.settings import load_settings
    from orchestration.summary import render_summary

    print(render_summary(load_settings().serving_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
