"""Dead runs are marked failed while the Dagster UI is open, not only when the next refresh starts."""

import dagster as dg

from orchestration.defs.runs.dead_runs import mark_dead_runs_failed


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process is gone (killed, out of memory) as failed, so that the UI shows the "
    "truth and the run queue, one run at a time, moves on.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    dead = mark_dead_runs_failed(context.instance, noticed_by="the dead_runs_sensor of the Dagster daemon")
    for run in dead:
        context.log.warning(f"Marked {run.describe()} failed: its process is gone.")
    return dg.SkipReason(f"Marked {len(dead)} dead run(s) as failed." if dead else "No dead runs.")
