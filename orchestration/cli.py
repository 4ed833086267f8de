"""Command line front door used by the Makefile.

python -m orchestration.cli run [--as-of YYYY-MM-DD]   refresh everything through Dagster, print a summary
python -m orchestration.cli summary                    print the summary of the current warehouse
python -m orchestration.cli prepare                    parse the dbt project so that the definitions can load
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import uuid
from pathlib import Path


def _say(message: str) -> None:
    """To the terminal, also while the run's standard output goes to the log file."""
    print(message, file=sys.stderr, flush=True)


class ReceivedSignals:
    """Makes SIGTERM stop a refresh the way Ctrl-C (SIGINT) does, and remembers which of the two arrived.

    During the run Dagster installs its own handlers for both (they stop the step in progress and fail the run,
    and dagster-dbt passes the interrupt on to dbt), so no handler of ours sees them. The interpreter writes the
    number of every signal it receives to the wakeup descriptor set here, whoever handles it.
    """

    STOPPING = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self) -> ReceivedSignals:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._previous_wakeup = signal.set_wakeup_fd(self._write)
        self._previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
        self._received: list[signal.Signals] = []
        return self

    def first_stop(self) -> signal.Signals | None:
        """The first SIGINT or SIGTERM received so far, if any."""
        with contextlib.suppress(BlockingIOError):
            numbers = os.read(self._read, 1024)
            self._received += [signal.Signals(n) for n in numbers if n in self.STOPPING]
        return self._received[0] if self._received else None

    def __exit__(self, *exc_info: object) -> None:
        signal.set_wakeup_fd(self._previous_wakeup)
        signal.signal(signal.SIGTERM, self._previous_sigterm)
        os.close(self._read)
        os.close(self._write)


def _run(as_of: str, rebuild_history: bool) -> int:
    import dagster as dg

    from orchestration.defs.runs.warehouse_lock import WarehouseBusyError, warehouse_lock
    from orchestration.settings import load_settings, warehouse_wait_seconds

    settings = load_settings()
    # Known before the run exists, so that a refresh waiting for this one can name it.
    run_id = str(uuid.uuid4())
    with ReceivedSignals() as signals:
        try:
            with (
                warehouse_lock(settings.warehouse_path, run_id, warehouse_wait_seconds(), _say),
                # Opened under the lock: two refreshes setting up a new Dagster home at once trip over each other.
                dg.DagsterInstance.get() as instance,
            ):
                result = _refresh(instance, run_id, as_of, rebuild_history, signals)
                stop = signals.first_stop()
                if stop is not None and not result.success:
                    # Dagster marked the run failed as "interrupted unexpectedly"; its event log gets the cause.
                    instance.report_engine_event(
                        f"Stopped by {stop.name}: the refresh was asked to stop (Ctrl-C, kill or a shutdown).",
                        result.dagster_run,
                    )
        except WarehouseBusyError as busy:
            _say(str(busy))
            return 1
        except KeyboardInterrupt:
            stop = signals.first_stop() or signal.SIGINT
            _say(f"Stopped by {stop.name}; the serving file keeps its previous version.")
            return 128 + stop
    if stop is not None and not result.success:
        published = bool(result.asset_materializations_for_node("serving__health_score_marts"))
        _say(
            f"Stopped by {stop.name}: run {result.run_id} was marked failed and the warehouse released; "
            + ("its scores were published before it stopped." if published else "nothing was published.")
        )
        return 128 + stop
    from orchestration.summary import render_checks, render_publication, render_summary

    print(render_checks(result.get_asset_check_evaluations(), planned_checks(instance, result.run_id)))
    print()
    if not result.success:
        for event in result.all_events:
            if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                failure = event.step_failure_data
                print(f"FAILED {event.step_key}: {step_failure_reason(failure)}", file=sys.stderr)
        print(f"Run {result.run_id} failed; details in the Dagster UI (make dev).", file=sys.stderr)
        print(render_publication(settings.serving_path, result.run_id), file=sys.stderr)
        return 1
    print(f"Run {result.run_id} succeeded; scores published to {settings.serving_path}.\n")
    print(render_summary(settings.serving_path))
    return 0


def planned_checks(instance, run_id: str) -> list:
    """The checks the run planned to evaluate (Dagster records them when it creates the run)."""
    import dagster as dg

    from orchestration.defs.dbt.assets import churn_risk_dbt_assets, healthscore_dbt_assets
    from orchestration.summary import PlannedCheck

    dbt_steps = {healthscore_dbt_assets.op.name, churn_risk_dbt_assets.op.name}
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, limit=100_000
    ).records
    return [
        PlannedCheck(
            dg.AssetCheckKey(event.event_specific_data.asset_key, event.event_specific_data.check_name),
            event.step_key in dbt_steps,
        )
        for event in (record.event_log_entry.dagster_event for record in records)
    ]


def step_failure_reason(failure) -> str:
    """Why a step failed. A refusal because of failed checks lists their findings, which the checks section
    above already shows: its first line is enough here."""
    if failure.user_failure_data is None:
        return user_error(failure.error).strip()
    reason = (failure.user_failure_data.description or "").strip()
    if {"failed_tests", "failed_checks"} & set(failure.user_failure_data.metadata):
        return reason.splitlines()[0] + " (what they found: above)"
    return reason


def user_error(error) -> str:
    """The error a step raised, not Dagster's wrappers around it ("Error occurred while executing op ..."):
    the first cause that is not Dagster's own."""
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    # "orchestration.defs.privacy.keys.PseudonymisationKeyError: ..." reads better without the module path.
    message = error.message.strip()
    qualified = message.split(":", 1)[0]
    if qualified.endswith("." + error.cls_name):
        message = error.cls_name + message[len(qualified) :]
    return message


def _refresh(instance, run_id: str, as_of: str, rebuild_history: bool, signals: ReceivedSignals):
    """Runs refresh_all in this process, after clearing up what killed runs left; the caller holds the warehouse."""
    from orchestration.defs.dbt.project import prepare_manifest
    from orchestration.defs.jobs import STARTED_BY_CLI, STARTED_BY_TAG
    from orchestration.defs.runs.dead_runs import run_process_tags
    from orchestration.defs.runs.guard import fail_dead_runs
    from orchestration.defs.serving.publish import remove_stale_partial_files

    fail_dead_runs(instance, run_id, _say)
    # The manifest must describe the current models before the definitions load. Parsing while holding the
    # warehouse also keeps two refreshes from rewriting dbt's target/ files under each other.
    prepare_manifest()
    from orchestration.definitions import defs, settings

    for path in remove_stale_partial_files(settings.serving_path):
        _say(f"Removed {path}: a half-built serving file left by a refresh killed while publishing.")
    job = defs.resolve_job_def("refresh_all")
    run_config = {
        "ops": {"healthscore_dbt_assets": {"config": {"score_as_of_date": as_of, "rebuild_history": rebuild_history}}},
        # The full event log is in the Dagster UI; the terminal gets the checks, failures and the summary.
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    log_path = Path(os.environ["DAGSTER_HOME"]) / "last_refresh.log"
    print(f"Refreshing {settings.warehouse_path} from {settings.landing_dir} (dbt output: {log_path}) ...")
    try:
        with log_path.open("w") as log, contextlib.redirect_stdout(log):
            return job.execute_in_process(
                instance=instance,
                run_config=run_config,
                raise_on_error=False,
                run_id=run_id,
                tags={**run_process_tags(), STARTED_BY_TAG: STARTED_BY_CLI},
            )
    except KeyboardInterrupt:
        # Dagster handles signals only while the steps run; around them, marking the run failed is ours to do.
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            stop = signals.first_stop() or signal.SIGINT
            instance.report_run_failed(run, message=f"Stopped by {stop.name} before the run could finish.")
        raise


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
