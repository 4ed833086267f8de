"""Alert delivery as an asset after publishing: only scores that passed the blocking checks and were published
raise alerts that leave the warehouse. An endpoint that fails or hangs never fails the run; the check beside the
asset warns, and later runs retry."""

import os

import dagster as dg

from orchestration.defs.alerts.delivery import LOG_TABLE, deliver_alerts, load_delivery_settings
from orchestration.defs.resources import WarehouseResource

PUBLISHED = dg.AssetKey(["serving", "health_score_marts"])
DELIVERIES = dg.AssetKey(["alerts", "webhook_deliveries"])
ALERTS_DELIVERED = dg.AssetCheckSpec(
    "alerts_delivered",
    asset=DELIVERIES,
    description="Every deliverable alert whose webhook is configured reached it (warns; later runs retry).",
)


def published_in_this_run(context: dg.AssetExecutionContext) -> bool:
    """Whether this run published the scores. A run that did not (the retry job, a materialisation from the UI
    after a refresh whose checks failed) finds alerts in the warehouse nobody vouched for; it only retries
    deliveries an earlier, published run had started."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100_000
    ).records
    return any(record.event_log_entry.dagster_event.asset_key == PUBLISHED for record in records)


@dg.asset(
    key=DELIVERIES,
    deps=[PUBLISHED],
    group_name="alerts",
    kinds={"duckdb"},
    check_specs=[ALERTS_DELIVERED],
    description="Posts every deliverable alert of marts.health_alerts not yet delivered to the webhook URL in its "
    f"rule's environment variable, and logs each delivery in {LOG_TABLE} (never the URL).",
)
def webhook_deliveries(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    enqueue_new = published_in_this_run(context)
    with warehouse.connect() as con:
        settings = load_delivery_settings(con)
        report = deliver_alerts(con, settings, os.environ, enqueue_new=enqueue_new, log=context.log.warning)
    summary = report.describe() + ("" if enqueue_new else " (retries only: this run published no scores)")
    return dg.MaterializeResult(
        metadata={
            "delivered": len(report.sent),
            "failed": len(report.failed),
            # The retry sensor reads this.
            "retryable_failures": report.retryable_failures,
            "already_sent": report.already_sent,
            "requests_made": report.requests_made,
            "not_configured": dg.MetadataValue.json(report.not_configured),
            "failures": dg.MetadataValue.json(report.failed),
            "summary": summary,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=ALERTS_DELIVERED.name,
                passed=not report.failed,
                severity=dg.AssetCheckSeverity.WARN,
                description=summary,
                metadata={"failed": len(report.failed), "failures": dg.MetadataValue.json(report.failed)},
            )
        ],
    )
