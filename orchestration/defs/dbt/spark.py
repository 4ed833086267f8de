"""Spark as dbt's engine (HEALTHSCORE_DBT_TARGET=spark): what crosses between the DuckDB warehouse and Spark.

Ingestion, the backtest, the checks and publishing stay in Python on the DuckDB warehouse; only dbt runs on
Spark. Two bridges, both over Parquet files and neither copying the big tables:

- Before each dbt step, `write_spark_sources` describes the relations dbt reads as sources as Spark views in
  a catalog file (sources/catalog.parquet in Spark's directory), which the on-run-start macro
  register_spark_sources (dbt_project/macros/spark_sources.sql) creates. A landed source becomes a view over
  the very Parquet files the loader checked and stored, with the same columns and the same rows as DuckDB's
  `raw.<source>` (raw_store.py: one contract, one set of rules); the loader's small bookkeeping tables and
  the backtest's coefficients are copied to Parquet first.
- After each dbt step, `mirror_spark_tables` makes every table dbt built on Spark (Parquet files in Spark's
  warehouse directory) a view of the same name in the DuckDB warehouse, columns in the models' documented
  order and types, so that the Python steps and the publication to the serving file read them unchanged.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import duckdb

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.raw_store import SCHEMA as RAW_SCHEMA
from orchestration.defs.ingestion.raw_store import (
    FileLoad,
    derived_columns,
    known_account_condition,
    raw_view_columns,
    stored_files,
)

SOURCES_DIR = "sources"
TABLES_DIR = "tables"
CATALOG_FILE = "catalog.parquet"
# Loader bookkeeping the raw views themselves read, besides the sources dbt names.
RAW_VIEW_HELPERS = (("raw", "unknown_account_rows"),)
# Landed column types as Spark names them.
SPARK_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "INTEGER": "int", "DATE": "date", "TIMESTAMP": "timestamp"}
GLOB_CHARACTERS = re.compile(r"([\\{}\[\]*?,])")


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def spark_type(duckdb_type: str) -> str:
    return SPARK_TYPES.get(duckdb_type.upper(), duckdb_type.lower())


def _column(name: str, duckdb_type: str) -> str:
    """A column of a Parquet file DuckDB wrote, as Spark should see it. DuckDB writes timestamps without a time
    zone, which Spark reads as timestamp_ntz; in the UTC session a cast makes them Spark's timestamp, the type
    the models' contracts and casts name, without moving them in time."""
    return f"cast({_quote(name)} as timestamp) as {_quote(name)}" if duckdb_type == "TIMESTAMP" else _quote(name)


def _parquet_relation(path: str) -> str:
    """Spark SQL reading Parquet at `path` (a file, or a glob)."""
    return "parquet." + _quote(path)


def _files_glob(paths: list[str]) -> str:
    """One Hadoop glob naming exactly `paths`, which share a directory (a source's stored files do)."""
    directory = {str(Path(p).parent) for p in paths}
    if len(directory) != 1:
        raise ValueError(f"stored files of one source lie in several directories: {sorted(directory)}")
    escaped = GLOB_CHARACTERS.sub(r"\\\1", directory.pop())
    names = [GLOB_CHARACTERS.sub(r"\\\1", Path(p).name) for p in paths]
    return f"{escaped}/{{{','.join(names)}}}" if len(names) > 1 else f"{escaped}/{names[0]}"


def spark_raw_view_sql(contract_name: str, files: list[FileLoad]) -> str:
    """`raw.<source>` in Spark SQL: the same columns and rows as the DuckDB view (raw_store.py), read from the
    same Parquet files. Files are read together where their columns agree (a column beyond the contract that
    a file lacks is null); rows of unknown accounts are left out by the loader's own condition."""
    contract = load_contracts()[contract_name]
    columns = raw_view_columns(contract, files)
    types = {c.name: c.duckdb_type for c in contract.columns} | dict(derived_columns(contract))
    types |= {"_source_file": "VARCHAR", "_source_row": "BIGINT", "_loaded_at": "TIMESTAMP"}
    if not files:
        typed = ", ".join(f"cast(null as {spark_type(types[c])}) as {_quote(c)}" for c in columns)
        return f"select {typed} where 1 = 0"
    groups: dict[tuple[str, ...], list[str]] = {}
    for file in files:
        groups.setdefault(tuple(file.extra_columns), []).append(file.raw_file)
    selects = []
    for extras, paths in groups.items():
        own = set(contract.column_names) | set(extras) | {name for name, _ in derived_columns(contract)}
        own |= {"_source_file", "_source_row", "_loaded_at"}
        listed = ", ".join(_quote(c) if c in own else f"cast(null as string) as {_quote(c)}" for c in columns)
        selects.append(f"select {listed} from {_parquet_relation(_files_glob(paths))}")
    union = "\n    union all\n    ".join(selects)
    condition = known_account_condition(contract)
    listed = ", ".join(_column(c, types.get(c, "VARCHAR")) for c in columns)
    return f"select {listed}\nfrom (\n    {union}\n) as landed\nwhere {condition}"


def _write_parquet(con: duckdb.DuckDBPyConnection, query: str, destination: Path) -> None:
    """Writes `query` to `destination` under a temporary name first: Spark never reads a half-written file."""
    partial = destination.with_name(destination.name + ".partial")
    con.execute(f"copy ({query}) to '{partial}' (format parquet)")
    os.replace(partial, destination)


def _relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return (
        con.execute(
            "select (select count(*) from duckdb_tables() where schema_name = $1 and table_name = $2) "
            "+ (select count(*) from duckdb_views() where schema_name = $1 and view_name = $2 and not temporary)",
            [schema, name],
        ).fetchone()[0]
        > 0
    )


def source_relations(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(schema, name) of every relation dbt reads as a source, in the order the manifest lists them."""
    return [(source["schema"], source["identifier"]) for source in manifest["sources"].values()]


def write_spark_sources(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], spark_dir: Path) -> Path:
    """Describes every source dbt reads, as it stands in the DuckDB warehouse, as Spark views in the catalog
    file; returns it. Sources not in the warehouse yet (the backtest's before its first run) are left out."""
    directory = spark_dir / SOURCES_DIR
    directory.mkdir(parents=True, exist_ok=True)
    contracts = load_contracts()
    store_files = {}
    catalog: list[tuple[str, str, str]] = []
    for schema, name in [*RAW_VIEW_HELPERS, *source_relations(manifest)]:
        if schema == RAW_SCHEMA and name in contracts:
            if name not in store_files:
                store_files[name] = list(stored_files(con, name).values())
            catalog.append((schema, name, spark_raw_view_sql(name, store_files[name])))
        elif _relation_exists(con, schema, name):
            snapshot = directory / f"{schema}.{name}.parquet"
            _write_parquet(con, f'select * from "{schema}"."{name}"', snapshot)
            described = con.execute(f'select column_name, column_type from (describe "{schema}"."{name}")').fetchall()
            listed = ", ".join(_column(column, kind) for column, kind in described)
            catalog.append((schema, name, f"select {listed} from {_parquet_relation(str(snapshot))}"))
    con.execute(
        "create or replace temp table spark_catalog "
        "(position integer, schema_name varchar, relation_name varchar, definition varchar)"
    )
    con.executemany(
        "insert into spark_catalog values (?, ?, ?, ?)",
        [(position, *entry) for position, entry in enumerate(catalog)],
    )
    catalog_file = directory / CATALOG_FILE
    _write_parquet(con, "select * from spark_catalog order by position", catalog_file)
    con.execute("drop table spark_catalog")
    return catalog_file


def _table_directory(spark_dir: Path, schema: str, name: str) -> Path:
    """Where Spark keeps a managed table: <warehouse dir>/<database>.db/<table>."""
    return spark_dir / TABLES_DIR / f"{schema}.db" / name.lower()


def _built_tables(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"].get("enabled", True)
        and node["config"]["materialized"] in ("table", "incremental", "seed")
    ]


def mirror_spark_tables(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], spark_dir: Path) -> int:
    """Makes each table dbt builds on Spark a view of the same schema and name in the DuckDB warehouse, over
    Spark's Parquet files; returns how many. Columns follow the model's YAML (its contract's order, not Spark's,
    which puts partition columns last) with its declared types; timestamps come back without a time zone."""
    mirrored = 0
    for node in _built_tables(manifest):
        schema, name = node["schema"], node["alias"]
        directory = _table_directory(spark_dir, schema, name)
        if not directory.is_dir():
            continue  # not built on Spark yet (a model of the step after the backtest)
        documented = {column: spec.get("data_type") for column, spec in node["columns"].items()}
        files = [str(path) for path in sorted(directory.rglob("*.parquet")) if not path.name.startswith((".", "_"))]
        partitions = node["config"].get("partition_by") or []
        partitions = [partitions] if isinstance(partitions, str) else partitions
        if files:
            read = f"read_parquet({[*files]!r}, hive_partitioning = {bool(partitions)}, union_by_name = true)"
            found = dict(
                con.execute(f"select column_name, column_type from (describe select * from {read})").fetchall()
            )
        elif all(documented.values()) and documented:
            read, found = None, {}
        else:
            raise RuntimeError(f"{schema}.{name} on Spark has no files and no documented column types")
        names = [c for c in documented if c in found or read is None] + [c for c in found if c not in documented]
        selected = []
        for column in names:
            declared = documented.get(column)
            if read is None:
                selected.append(f'cast(null as {declared}) as "{column}"')
            elif declared and node["config"].get("contract", {}).get("enforced"):
                selected.append(f'cast("{column}" as {declared}) as "{column}"')
            elif found[column].startswith("TIMESTAMP WITH TIME ZONE"):
                selected.append(f'cast("{column}" as timestamp) as "{column}"')
            else:
                selected.append(f'"{column}"')
        body = f"select {', '.join(selected)} from {read}" if read else f"select {', '.join(selected)} limit 0"
        con.execute(f'create schema if not exists "{schema}"')
        if con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, name]
        ).fetchone()[0]:
            con.execute(f'drop table "{schema}"."{name}"')  # built on DuckDB by an earlier run
        con.execute(f'create or replace view "{schema}"."{name}" as {body}')
        if node["config"].get("persist_docs", {}).get("relation"):
            _describe(con, node)
        mirrored += 1
    return mirrored


def _describe(con: duckdb.DuckDBPyConnection, node: dict[str, Any]) -> None:
    """The model's descriptions as comments, as dbt's persist_docs writes them on DuckDB: the serving file carries
    them on to BI tools."""

    def text(value: str | None) -> str:
        return "null" if not value else "'" + value.strip().replace("'", "''") + "'"

    relation = f'"{node["schema"]}"."{node["alias"]}"'
    con.execute(f"comment on view {relation} is {text(node.get('description'))}")
    for column, spec in node["columns"].items():
        con.execute(f'comment on column {relation}."{column}" is {text(spec.get("description"))}')


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
