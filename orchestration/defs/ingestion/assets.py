"""One ingestion asset per raw source: landed files in, checked Parquet files and a `raw.<source>` view out.

Rows that break the contract are set aside with their reasons and the rest loads; a source fails only when
a file cannot be read at all or more of its rows are set aside than seeds/source_load_limits.csv allows,
and then the rows it loaded before stay as they were."""

import datetime as dt
from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.contract import SourceContract, load_contracts
from orchestration.defs.ingestion.landing import SUPPORTED_SUFFIXES, find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import ACCOUNT_SOURCE, RawStore, SourceLoad
from orchestration.defs.ingestion.rejections import rejection_summary
from orchestration.defs.resources import LandingResource, WarehouseResource

INGESTION_GROUP = "ingestion"
LANDING_GROUP = INGESTION_GROUP  # read and written by ingestion: the lineage picture shows them side by side
UNKNOWN_PARENT_EXAMPLES = 10
# A source's observation lists this many of its files by name; beyond that, the count and total size say the rest.
LANDING_FILES_LISTED = 50


def landing_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source])


def landing_file_spec(contract: SourceContract, landing_dir: Path) -> dg.AssetSpec:
    """The files a source system lands, as an external asset upstream of raw/<source>: the lineage in the UI
    starts at the files. Dagster does not write them; each refresh records what it found as an observation
    (landing_observation). Kinds name the formats now in the landing directory (either, before anything lands)."""
    formats = {path.suffix.lower().lstrip(".") for path in find_landing_files(landing_dir, contract.name)}
    return dg.AssetSpec(
        key=landing_key(contract.name),
        group_name=LANDING_GROUP,
        kinds=formats or {suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES},
        description=f"The {contract.name} export(s) of {contract.system} as landed: {contract.name}.csv, "
        f"{contract.name}.parquet or the files of a {contract.name}/ folder in the landing directory. "
        f"{contract.description}",
        metadata={"landing_dir": dg.MetadataValue.path(str(landing_dir)), "source_system": contract.system},
    )


def _size(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GiB"


def landing_observation(source: str, files: list[Path], landing_dir: Path) -> dg.AssetObservation:
    """What landed for a source as a refresh found it: each file's name, size and modification time (UTC)."""
    stats = [(path.relative_to(landing_dir), path.stat()) for path in files]
    listed = "\n".join(
        f"| {name} | {_size(stat.st_size)} | {dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC):%Y-%m-%d %H:%M:%S} |"
        for name, stat in stats[:LANDING_FILES_LISTED]
    )
    more = len(stats) - LANDING_FILES_LISTED
    table = (
        "| file | size | modified (UTC) |\n|---|---:|---|\n" + listed + (f"\n\n_and {more:,} more_" if more > 0 else "")
        if stats
        else "_no files found_"
    )
    total = sum(stat.st_size for _, stat in stats)
    metadata = {
        "files": dg.MetadataValue.md(table),
        "file_count": len(stats),
        "total_bytes": total,
        "total_size": _size(total),
        "landing_dir": dg.MetadataValue.path(str(landing_dir)),
    }
    if stats:
        metadata["newest_modified_at"] = dg.MetadataValue.timestamp(max(stat.st_mtime for _, stat in stats))
    return dg.AssetObservation(asset_key=landing_key(source), metadata=metadata)


def _file_table(result: SourceLoad) -> str:
    if not result.files:
        return "_no files found_"
    rows = "\n".join(
        f"| {f.landed_file} | {f.rows_read:,} | {f.rows_read - f.rows_rejected - f.rows_unknown_account:,} "
        f"| {f.rows_rejected + f.rows_unknown_account:,} | {'loaded now' if f.is_new else 'unchanged'} |"
        for f in result.files
    )
    return "| file | read | loaded | set aside | |\n|---|---:|---:|---:|---|\n" + rows


def _unknown_parents(result: SourceLoad) -> str:
    """Rows loaded without the parent they name, which is not in their file: the first examples."""
    messages = result.unknown_parents
    if not messages:
        return ""
    shown = "\n".join(f"    {message}" for message in messages[:UNKNOWN_PARENT_EXAMPLES])
    more = len(messages) - UNKNOWN_PARENT_EXAMPLES
    return (
        f"{result.source}: {len(messages):,} account(s) loaded without their parent, which is not in the same "
        f"file; they count as accounts of their own (no family roll-up):\n{shown}"
        + (f"\n    ... and {more:,} more" if more > 0 else "")
    )


def build_ingestion_asset(contract: SourceContract) -> dg.AssetsDefinition:
    # Rows must name a known account, so every source is judged against the accounts loaded before it.
    deps = [landing_key(contract.name)]
    if contract.account_reference is not None:
        deps.append(dg.AssetKey(["raw", ACCOUNT_SOURCE]))

    @dg.asset(
        key=["raw", contract.name],
        deps=deps,
        group_name=INGESTION_GROUP,
        kinds={"duckdb", "parquet", "python"},
        description=f"Loads the {contract.name} export(s) from the landing directory into raw.{contract.name}, "
        f"setting aside rows that break the contract (raw.rejected_rows). {contract.description}",
        metadata={"primary_key": ", ".join(contract.primary_key), "source_system": contract.system},
    )
    def ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
    ) -> dg.MaterializeResult:
        files = find_landing_files(landing.path, contract.name)
        context.log_event(landing_observation(contract.name, files, landing.path))
        if not files:
            message = f"no {contract.name}.csv, {contract.name}.parquet or {contract.name}/ folder in {landing.path}"
            if contract.required:
                raise dg.Failure(description=f"Required source missing: {message}")
            context.log.warning(f"{message}; raw.{contract.name} is left empty")
        rules = load_rules()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with warehouse.connect() as con:
            store = RawStore(con, warehouse.raw_path)
            result = store.load(contract, files, landing.path, rules, now)
            limit = rules.max_rejected_share(contract.name)
            if result.errors or result.rejected_share > limit:
                summary = rejection_summary(con, contract.name, result)
                store.remove_unnamed_files(contract.name)
                if result.errors:
                    problem = f"{len(result.errors)} file(s) cannot be read:\n" + "\n".join(result.errors)
                else:
                    problem = (
                        f"{result.rows_rejected:,} of {result.rows_read:,} rows ({result.rejected_share:.1%}) break "
                        f"the contract, more than the {limit:.1%} seeds/source_load_limits.csv allows:\n{summary}"
                    )
                raise dg.Failure(
                    description=f"{contract.name} not loaded; the rows loaded before stay. {problem}",
                    metadata={"rows_read": result.rows_read, "rows_rejected": result.rows_rejected},
                )
            store.commit(contract, result, now)
            summary = rejection_summary(con, contract.name, result)
        unknown_parents = _unknown_parents(result)
        if unknown_parents:
            context.log.warning(unknown_parents)
        if result.rows_rejected:
            context.log.warning(
                f"{contract.name}: {result.rows_rejected:,} of {result.rows_read:,} rows set aside "
                f"(see raw.rejected_rows):\n{summary}"
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows_loaded,
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "rejected_share": round(result.rejected_share, 6),
                "max_rejected_share": limit,
                "files": dg.MetadataValue.md(_file_table(result)),
                "files_loaded_now": len(result.changed),
                "files_removed": len(result.removed),
                "rejections": dg.MetadataValue.md(summary or "_none_"),
                "accounts_without_their_parent": len(result.unknown_parents),
                "view": f"raw.{contract.name}",
                "landing_dir": str(landing.path),
            }
        )

    return ingest


ingestion_assets = [build_ingestion_asset(contract) for contract in load_contracts().values()]
