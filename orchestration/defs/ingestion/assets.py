"""One ingestion asset per raw source: landing files in, a checked and typed `raw.<source>` table out."""

import dagster as dg

from orchestration.defs.ingestion.contract import SourceContract, load_contracts
from orchestration.defs.ingestion.landing import LandingError, find_landing_files, load_source
from orchestration.defs.resources import LandingResource, WarehouseResource

INGESTION_GROUP = "ingestion"


def build_ingestion_asset(contract: SourceContract) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", contract.name],
        group_name=INGESTION_GROUP,
        kinds={"duckdb", "python"},
        description=f"Loads the {contract.name} export(s) from the landing directory into raw.{contract.name}. "
        f"{contract.description}",
        metadata={"primary_key": ", ".join(contract.primary_key), "source_system": contract.system},
    )
    def ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
    ) -> dg.MaterializeResult:
        files = find_landing_files(landing.path, contract.name)
        if not files:
            message = f"no {contract.name}.csv, {contract.name}.parquet or {contract.name}/ folder in {landing.path}"
            if contract.required:
                raise dg.Failure(description=f"Required source missing: {message}")
            context.log.warning(f"{message}; raw.{contract.name} is left empty")
        try:
            with warehouse.connect() as con:
                report = load_source(con, contract, files, landing.path)
        except LandingError as error:
            raise dg.Failure(description=str(error)) from error
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": report.row_count,
                "table": report.table,
                "landing_dir": str(landing.path),
                "files": dg.MetadataValue.md(
                    "| file | rows |\n|---|---:|\n"
                    + "\n".join(f"| {name} | {rows:,} |" for name, rows in report.rows_per_file.items())
                    if report.files
                    else "_no files found_"
                ),
                "file_count": len(report.files),
                "extra_columns": ", ".join(report.extra_columns) or "none",
            }
        )

    return ingest


ingestion_assets = [build_ingestion_asset(contract) for contract in load_contracts().values()]
