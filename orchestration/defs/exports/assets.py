"""The CRM export as an asset after publishing: the CRM receives only health values that passed the blocking
checks and were published."""

import datetime as dt

import dagster as dg

from orchestration.defs.exports.crm import STATE_TABLE, export_crm_properties
from orchestration.defs.exports.resources import CrmExportResource
from orchestration.defs.resources import WarehouseResource


@dg.asset(
    key=["exports", "crm_account_properties"],
    deps=[dg.AssetKey(["serving", "health_score_marts"]), dg.AssetKey(["marts", "crm_account_properties"])],
    group_name="exports",
    kinds={"csv", "json"},
    description="Writes the accounts whose CRM properties changed since the last export as CSV and JSON lines, "
    f"once with HubSpot property names and once with Salesforce field names; remembers them in {STATE_TABLE}.",
)
def crm_account_properties_export(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, crm_export: CrmExportResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        report = export_crm_properties(con, crm_export.path, dt.datetime.now(dt.UTC))
    context.log.info(f"CRM export: {report.exported} of {report.accounts} account(s) changed.")
    return dg.MaterializeResult(
        metadata={
            "accounts": report.accounts,
            "dagster/row_count": report.exported,
            "files": dg.MetadataValue.json([str(path) for path in report.files]),
            "export_dir": str(crm_export.path),
        }
    )
