"""The dbt project as Dagster assets: `dbt build` runs models, seeds and tests; tests become asset checks."""

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.dbt.descriptions import describe_test, seed_contents
from orchestration.defs.dbt.failures import explain_failures
from orchestration.defs.dbt.partial_parse import keep_parse, new_target_path, restore_parse
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.dbt.spark import load_manifest, mirror_spark_tables, write_spark_sources
from orchestration.defs.resources import WarehouseResource
from orchestration.settings import REPO_ROOT


class DbtBuildConfig(dg.Config):
    """Run options of a refresh."""

    score_as_of_date: str = ""
    """Day to score (ISO date); empty means the latest day with usage data."""
    rebuild_history: bool = False
    """Rescore the whole daily history with the current configuration instead of adding new days."""


def warehouse_vars(warehouse: WarehouseResource) -> dict[str, str]:
    """The DuckDB file dbt opens, its memory limit and spill directory, as dbt vars that profiles.yml reads:
    dbt builds into the file of the resource the Python assets use, whatever the process environment says."""
    dbt_vars = {
        "warehouse_path": str(warehouse.file),
        "memory_limit": warehouse.memory_limit,
        "spill_dir": str(warehouse.spill_path),
    }
    if warehouse.dbt_target == "spark":
        dbt_vars["spark_dir"] = str(warehouse.spark_path)
    return dbt_vars


def dbt_build_args(config: DbtBuildConfig, warehouse: WarehouseResource) -> list[str]:
    """The dbt command line for a refresh of `warehouse`."""
    dbt_vars: dict[str, object] = warehouse_vars(warehouse)
    if config.score_as_of_date:
        dbt_vars["score_as_of_date"] = config.score_as_of_date
    if config.rebuild_history:
        dbt_vars["rebuild_history"] = True
    # Unit tests pin model logic with fixed inputs; they run in the test suite (make test), not on every
    # refresh, where they would only repeat themselves (each costs about a second).
    return ["build", "--exclude", "test_type:unit", "--vars", json.dumps(dbt_vars)]


def after_backtest_args(warehouse: WarehouseResource) -> list[str]:
    """The dbt command line of the step after the backtest (its selection comes from the asset definition)."""
    return ["build", "--exclude", "test_type:unit", "--vars", json.dumps(warehouse_vars(warehouse))]


def nodes_in_error(run_results: Mapping[str, Any]) -> list[str]:
    """Nodes dbt could not build or run, with dbt's message. A test that ran and found bad rows has status
    "fail", not "error": that is a check result, reported as such."""
    return [
        f"{result['unique_id']}: {(result.get('message') or '').strip()}"
        for result in run_results.get("results", [])
        if result.get("status") in ("error", "runtime error")
    ]


def prune_earlier_targets(current: Path, keep: int = 3) -> None:
    """dagster-dbt gives every invocation its own directory under target/ (about 10 MB of compiled SQL and
    artifacts each) and never removes one: a year of daily refreshes would fill gigabytes. The newest `keep`
    stay for looking into recent runs."""
    prefix = current.name.split("-")[0] + "-"
    earlier = sorted(
        (
            path
            for path in current.parent.iterdir()
            if path.is_dir() and path.name.startswith(prefix) and path != current
        ),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for path in earlier[max(keep - 1, 0) :]:
        shutil.rmtree(path, ignore_errors=True)


class LayerTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts) and seeds as scorecard configuration; seeds show
    their rows and every dbt test says what it checks (descriptions.py)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            # dagster-dbt would show the seed's (empty) SQL; its rows are what a reader wants to see.
            path = (Path(props["root_path"]) / props["original_file_path"]).resolve()
            shown = str(path.relative_to(REPO_ROOT))
            return spec.replace_attributes(
                group_name="scorecard_config",
                description=f"{props['description'] or ''}\n\n{seed_contents(path, shown)}".strip(),
            ).merge_attributes(metadata={"seed_file": dg.MetadataValue.path(shown)})
        if props["resource_type"] == "model":
            return spec.replace_attributes(group_name=props["fqn"][1])
        return spec

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=describe_test(manifest, manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
        )


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, args: list[str], warehouse: WarehouseResource):
    on_spark = warehouse.dbt_target == "spark"
    if on_spark:
        # Spark reads the sources as they stand in the warehouse now (defs/dbt/spark.py).
        with warehouse.connect() as con:
            write_spark_sources(con, load_manifest(dbt_project.manifest_path), warehouse.spark_path)
    # dbt builds everything it can (raise_on_error=False); a failed blocking test or a model dbt could not build
    # then fails this step with what was found, so the later checks and publishing are skipped, not fooled.
    target_path = new_target_path(dbt_project, context)
    restore_parse(dbt_project, args, target_path)
    invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target_path)
    # Failed tests are held back until dbt has finished and released the warehouse: their failing rows are
    # read from it then and become the sentences of the check result (failures.py).
    failed_checks = []
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult) and not event.passed:
            failed_checks.append(event)
        else:
            yield event
    keep_parse(dbt_project, args, target_path)
    prune_earlier_targets(Path(invocation.target_path))
    if on_spark:
        # The Python steps, the failing rows of tests and the publication read what dbt built on Spark
        # through the DuckDB warehouse.
        with warehouse.connect() as con:
            mirror_spark_tables(con, load_manifest(dbt_project.manifest_path), warehouse.spark_path)
    if invocation.is_successful() and not failed_checks:
        return
    run_results = invocation.get_artifact("run_results.json")
    explained = explain_failures(failed_checks, invocation.manifest, run_results, warehouse.file)
    yield from explained
    if invocation.is_successful():
        return  # only warnings
    errors = nodes_in_error(run_results)
    if errors:
        raise dg.Failure(
            description=f"dbt could not build {len(errors)} node(s); nothing was published.\n" + "\n".join(errors),
            metadata={"nodes_in_error": dg.MetadataValue.json(errors)},
        )
    # dagster-dbt makes every test of severity error a blocking check, so Dagster would fail this step anyway
    # ("N blocking asset checks failed"): failing it here gives the run's failure what the tests found.
    blocking = [result for result in explained if result.severity == dg.AssetCheckSeverity.ERROR]
    found = [f"{result.check_name}: {line}" for result in blocking for line in result.description.splitlines()]
    raise dg.Failure(
        description=f"{len(blocking)} dbt test(s) failed; nothing was published.\n" + "\n".join(found),
        metadata={"failed_tests": dg.MetadataValue.json([result.check_name for result in blocking])},
    )


# Models that apply what the backtest fitted in Python (tag churn_risk) are built in a second dbt step after it.
AFTER_BACKTEST = "tag:churn_risk"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(),
    exclude=AFTER_BACKTEST,
)
def healthscore_dbt_assets(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    config: DbtBuildConfig,
    # Where dbt builds; requiring it also makes a run that builds only dbt models hold the warehouse lock.
    warehouse: WarehouseResource,
):
    yield from _build(context, dbt, dbt_build_args(config, warehouse), warehouse)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(),
    select=AFTER_BACKTEST,
    name="churn_risk_dbt_assets",
)
def churn_risk_dbt_assets(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,  # as above
):
    yield from _build(context, dbt, after_backtest_args(warehouse), warehouse)
