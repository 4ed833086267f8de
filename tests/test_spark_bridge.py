"""The bridges between the DuckDB warehouse and Spark (orchestration/defs/dbt/spark.py), without Spark: the raw
views Spark is given name the loader's files and columns, and Spark's tables come back to DuckDB in the
models' documented order and types. The engines themselves are compared in tests/spark/."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt.spark import (
    CATALOG_FILE,
    SOURCES_DIR,
    load_manifest,
    mirror_spark_tables,
    spark_raw_view_sql,
    write_spark_sources,
)
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.raw_store import FileLoad

NOW = dt.datetime(2026, 10, 31)


def _file(raw_file: str, extra_columns: tuple[str, ...] = ()) -> FileLoad:
    return FileLoad(
        landed_file=Path(raw_file).name,
        size_bytes=1,
        modified_ns=1,
        content_hash="0" * 64,
        raw_file=raw_file,
        rejected_file=None,
        rows_read=1,
        rows_rejected=0,
        first_event_date=None,
        last_event_date=None,
        newest_event_at=None,
        extra_columns=extra_columns,
        loaded_at=NOW,
        recheck_after=None,
    )


def test_raw_view_reads_files_of_one_shape_together_and_fills_missing_extra_columns():
    sql = spark_raw_view_sql(
        "usage_events",
        [
            _file("/raw/usage_events/a.parquet"),
            _file("/raw/usage_events/b.parquet"),
            _file("/raw/usage_events/c.parquet", ("browser",)),
        ],
    )
    assert "parquet.`/raw/usage_events/{a.parquet,b.parquet}`" in sql
    assert "parquet.`/raw/usage_events/c.parquet`" in sql
    assert sql.count("union all") == 1
    # The file without the extra column gives null for it; the one with it, its value.
    assert "cast(null as string) as `browser`" in sql.split("union all")[0]
    assert "cast(null as string)" not in sql.split("union all")[1]
    # Rows of accounts the accounts export does not know stay out, as on DuckDB.
    assert "raw.unknown_account_rows" in sql and "'usage_events'" in sql


def test_raw_view_escapes_glob_characters_in_paths():
    sql = spark_raw_view_sql("usage_events", [_file("/data {x}/a.parquet"), _file("/data {x}/b,c.parquet")])
    assert r"parquet.`/data \{x\}/{a.parquet,b\,c.parquet}`" in sql


def test_raw_view_without_files_has_every_column_typed():
    sql = spark_raw_view_sql("accounts", [])
    contract = load_contracts()["accounts"]
    for column in contract.columns:
        assert f"as `{column.name}`" in sql
    assert "cast(null as decimal(18,2)) as `arr`" in sql
    assert sql.endswith("where 1 = 0")


def test_sources_catalog_names_every_source_of_the_manifest(refreshed, dbt_manifest: Path, tmp_path: Path):
    manifest = load_manifest(dbt_manifest)
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        catalog = write_spark_sources(con, manifest, tmp_path)
        entries = con.execute(
            "select schema_name, relation_name, definition from read_parquet(?) order by position", [str(catalog)]
        ).fetchall()
        stored = {path for (path,) in con.execute("select raw_file from raw.landed_files").fetchall()}
    assert catalog == tmp_path / SOURCES_DIR / CATALOG_FILE
    names = [(schema, name) for schema, name, _ in entries]
    # The loader's table of unknown accounts comes first: the raw views read it.
    assert names[0] == ("raw", "unknown_account_rows")
    expected = {(source["schema"], source["identifier"]) for source in manifest["sources"].values()}
    assert expected <= set(names)
    usage = next(definition for schema, name, definition in entries if name == "usage_events")
    assert all(Path(path).name in usage for path in stored if "/usage_events/" in path)
    # Small tables are copied, and the copy holds what the warehouse holds.
    changes = next(definition for _, name, definition in entries if name == "landed_file_changes")
    snapshot = changes.split("parquet.`")[1].rstrip("`")
    with duckdb.connect() as con:
        copied = con.execute("select count(*) from read_parquet(?)", [snapshot]).fetchone()[0]
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        assert copied == con.execute("select count(*) from raw.landed_file_changes").fetchone()[0] > 0


def _spark_table(spark_dir: Path, schema: str, name: str) -> Path:
    directory = spark_dir / "tables" / f"{schema}.db" / name
    directory.mkdir(parents=True)
    return directory


MANIFEST = {
    "nodes": {
        "model.healthscore.scores": {
            "resource_type": "model",
            "schema": "marts",
            "alias": "scores",
            "description": "Scores by day.",
            "config": {
                "enabled": True,
                "materialized": "incremental",
                "partition_by": ["score_date"],
                "contract": {"enforced": True},
                "persist_docs": {"relation": True, "columns": True},
            },
            "columns": {
                "account_id": {"data_type": "string", "description": "The account."},
                "health_score": {"data_type": "decimal(10, 6)", "description": "It's the score."},
                "score_date": {"data_type": "date", "description": "The day."},
                "scored_at": {"data_type": "timestamp", "description": "When."},
            },
        },
        "model.healthscore.stg_view": {
            "resource_type": "model",
            "schema": "staging",
            "alias": "stg_view",
            "config": {"enabled": True, "materialized": "view"},
            "columns": {},
        },
    }
}


def test_spark_tables_come_back_in_documented_order_and_types(con, tmp_path: Path):
    directory = _spark_table(tmp_path, "marts", "scores")
    # As Spark writes them: the partition column in the directory names, timestamps adjusted to UTC.
    for day in ("2026-10-30", "2026-10-31"):
        (directory / f"score_date={day}").mkdir()
        con.execute(
            "copy (select 'ACC-1' as account_id, 81.5::double as health_score, "
            "timestamptz '2026-10-31 06:00:00+00' as scored_at) "
            f"to '{directory}/score_date={day}/part-00000.parquet' (format parquet)"
        )
    (directory / "_SUCCESS").touch()
    assert mirror_spark_tables(con, MANIFEST, tmp_path) == 1
    columns = con.execute(
        "select column_name, data_type, comment from duckdb_columns() where table_name = 'scores' order by column_index"
    ).fetchall()
    assert columns == [
        ("account_id", "VARCHAR", "The account."),
        ("health_score", "DECIMAL(10,6)", "It's the score."),
        ("score_date", "DATE", "The day."),
        ("scored_at", "TIMESTAMP", "When."),
    ]
    rows = con.execute("select score_date, scored_at from marts.scores order by score_date").fetchall()
    assert rows == [(dt.date(2026, 10, 30), dt.datetime(2026, 10, 31, 6)), (dt.date(2026, 10, 31), NOW.replace(hour=6))]
    # Views on Spark are not mirrored: nothing to read from files.
    assert not con.execute("select count(*) from duckdb_views() where view_name = 'stg_view'").fetchone()[0]


def test_a_table_built_on_duckdb_before_gives_way_and_an_empty_one_keeps_its_columns(con, tmp_path: Path):
    _spark_table(tmp_path, "marts", "scores")
    con.execute("create schema marts")
    con.execute("create table marts.scores as select 1 as stale")
    mirror_spark_tables(con, MANIFEST, tmp_path)
    assert con.execute("select * from marts.scores").fetchall() == []
    assert [name for (name,) in con.execute("select column_name from (describe marts.scores)").fetchall()] == [
        "account_id",
        "health_score",
        "score_date",
        "scored_at",
    ]


def test_a_table_without_files_or_documented_types_is_an_error(con, tmp_path: Path):
    _spark_table(tmp_path, "marts", "scores")
    undocumented = {"nodes": {key: {**node, "columns": {}} for key, node in MANIFEST["nodes"].items()}}
    with pytest.raises(RuntimeError, match="no files and no documented column types"):
        mirror_spark_tables(con, undocumented, tmp_path)
