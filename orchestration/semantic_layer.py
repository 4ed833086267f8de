"""The portfolio metrics of the dbt semantic layer (dbt_project/models/marts/portfolio/_portfolio__metrics.yml),
queried through MetricFlow on a DuckDB connection, typically the published file opened read-only, as BI reads it.

MetricFlow turns a metric request into SQL; this module only gives it a connection. Its own `mf` command does
the same through the dbt profile, which points at the working warehouse (locked while a refresh runs) and
checks PyPI for a newer version on every call."""

import json
from collections.abc import Sequence
from pathlib import Path

import duckdb
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

NO_PARAMETERS = SqlBindParameterSet()


class DuckDbSqlClient:
    """MetricFlow's SqlClient protocol on an open DuckDB connection (the caller closes it)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> DuckDbSqlPlanRenderer:
        return DuckDbSqlPlanRenderer()

    def query(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> MetricFlowDataTable:
        cursor = self._con.execute(stmt, dict(sql_bind_parameter_set.param_dict) or None)
        columns = [column[0] for column in cursor.description]
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=cursor.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> None:
        self._con.execute(stmt, dict(sql_bind_parameter_set.param_dict) or None)

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> None:
        self._con.execute(f"explain {stmt}", dict(sql_bind_parameter_set.param_dict) or None)

    def close(self) -> None:
        """The connection belongs to the caller."""

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def semantic_manifest_for(con: duckdb.DuckDBPyConnection, semantic_manifest: Path):
    """dbt's semantic manifest with every table named in the catalogue of `con`: dbt records the catalogue of the
    warehouse it parsed with, while the published file (or a test's copy) has a name of its own."""
    manifest = json.loads(semantic_manifest.read_text())
    database = con.execute("select current_database()").fetchone()[0]
    relations = [model["node_relation"] for model in manifest["semantic_models"]]
    relations += [spine["node_relation"] for spine in manifest["project_configuration"].get("time_spines", [])]
    for relation in relations:
        relation["database"] = database
        relation["relation_name"] = f'"{database}"."{relation["schema_name"]}"."{relation["alias"]}"'
    return parse_manifest_from_dbt_generated_manifest(manifest_json_string=json.dumps(manifest))


def default_semantic_manifest() -> Path:
    """The semantic manifest dbt writes beside the manifest when it parses the project (parsed here if stale)."""
    from orchestration.defs.dbt.project import prepare_manifest

    return prepare_manifest().parent / "semantic_manifest.json"


def query_metrics(
    con: duckdb.DuckDBPyConnection,
    metrics: Sequence[str],
    group_by: Sequence[str] = (),
    where: Sequence[str] = (),
    semantic_manifest: Path | None = None,
) -> list[dict]:
    """The metrics, grouped and filtered as MetricFlow reads them (e.g. group_by ["metric_time__day",
    "portfolio_day__dimension_value"], where ["{{ Dimension('portfolio_day__dimension') }} = 'segment'"]), as
    one dict per row."""
    lookup = SemanticManifestLookup(semantic_manifest_for(con, semantic_manifest or default_semantic_manifest()))
    engine = MetricFlowEngine(semantic_manifest_lookup=lookup, sql_client=DuckDbSqlClient(con))
    request = MetricFlowQueryRequest.create(
        metric_names=list(metrics), group_by_names=list(group_by), where_constraints=list(where) or None
    )
    table = engine.query(request).result_df
    return [dict(zip(table.column_names, row, strict=True)) for row in table.rows]
