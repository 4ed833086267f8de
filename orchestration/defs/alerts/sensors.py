"""Retries failed webhook deliveries between the daily refreshes."""

import dagster as dg

from orchestration.defs.alerts.assets import DELIVERIES

retry_alert_deliveries_job = dg.define_asset_job(
    name="retry_alert_deliveries",
    selection=dg.AssetSelection.assets(DELIVERIES),
    executor_def=dg.in_process_executor,
    description="Retries the webhook deliveries that failed; sends no alert a published refresh did not raise.",
)


@dg.sensor(
    job=retry_alert_deliveries_job,
    # An endpoint that is down for minutes gets its alerts within the quarter hour, without a run every minute.
    minimum_interval_seconds=900,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts retry_alert_deliveries when the last delivery left failures a retry can fix.",
)
def retry_failed_deliveries_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    event = context.instance.get_latest_materialization_event(DELIVERIES)
    if event is None or event.asset_materialization is None:
        return dg.SkipReason("No delivery has run yet.")
    retryable = event.asset_materialization.metadata.get("retryable_failures")
    if retryable is None or not retryable.value:
        return dg.SkipReason("The last delivery left nothing to retry.")
    # One retry per delivery run: the retry's own result decides whether another follows.
    return dg.RunRequest(run_key=f"retry-after-{event.run_id}")
