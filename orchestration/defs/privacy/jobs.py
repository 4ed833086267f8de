"""The erasure as a Dagster job, so that it can be started from the UI; the same function as
`python -m orchestration.erase`.

Dagster keeps every run's configuration, and this one holds the identifier in clear: prefer the command
line, or delete the run once its result is checked (the op says how). The op logs only the keyed hash.
"""

import dagster as dg
from pydantic import Field

from orchestration.defs.privacy.erasure import ErasureRefused, ErasureRequest, WarehouseFiles, erase
from orchestration.defs.privacy.keys import ACCOUNT, EMAIL, PseudonymisationKeyError
from orchestration.defs.resources import ServingResource, WarehouseResource


class ErasureConfig(dg.Config):
    identifier: str = Field(description="The e-mail address or account id to erase.")
    kind: str = Field(default="", description="email or account; empty: an identifier with '@' is an e-mail address.")
    performed_by: str = Field(default="", description="Who carries out the request.")
    reference: str = Field(default="", description="Case or ticket number of the request (not the identifier).")


def request_from_config(config: ErasureConfig, run_id: str) -> ErasureRequest:
    kind = config.kind or (EMAIL if "@" in config.identifier else ACCOUNT)
    return ErasureRequest(
        kind=kind,
        identifier=config.identifier,
        performed_by=config.performed_by,
        reference=config.reference,
        started_from=f"dagster run {run_id}",
    )


@dg.op(
    description="Erases a person (e-mail address) or an account from the raw layer, every model, the history and "
    "the serving file, and keeps it out of later loads (GDPR Art. 17).",
)
def erase_identifier(
    context: dg.OpExecutionContext, config: ErasureConfig, warehouse: WarehouseResource, serving: ServingResource
) -> dg.Output[str]:
    files = WarehouseFiles(warehouse.file, warehouse.raw_path, serving.file, warehouse.memory_limit)
    try:
        report = erase(request_from_config(config, context.run.run_id), files, notify=context.log.info)
    except (ErasureRefused, PseudonymisationKeyError) as error:
        raise dg.Failure(description=f"Not erased: {error}") from None
    context.log.info(report.render())
    context.log.warning(
        f"This run's configuration holds the identifier in clear: delete the run once you have checked the "
        f"result (Runs, this run, Delete; or `dagster run delete {context.run.run_id}`)."
    )
    return dg.Output(
        report.erasure_id,
        metadata={
            "identifier_hash": report.identifier_hash,
            "rows_removed": report.rows_removed,
            "values_cleared": report.values_cleared,
            "seconds": round(report.seconds, 1),
            "effects": dg.MetadataValue.md(
                "| place | rows removed | values cleared |\n|---|---:|---:|\n"
                + "\n".join(f"| {e.place} | {e.rows_removed:,} | {e.values_cleared:,} |" for e in report.effects)
            ),
        },
    )


@dg.job(
    name="erase_personal_data",
    executor_def=dg.in_process_executor,
    description="GDPR erasure of one e-mail address or account (config: identifier). Refuses to run beside a "
    "refresh. Prefer `make erase`: Dagster keeps this run's configuration, identifier included.",
)
def erase_personal_data_job() -> None:
    erase_identifier()
