"""Resources shared by the assets: the DuckDB warehouse and the landing directory."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from orchestration.defs.runs.guard import hold_warehouse_for_run


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file every asset writes, and the Parquet files of the raw layer beside it. DuckDB allows one
    writer per file, so every run that uses it holds the warehouse lock from its start to its end
    (defs/runs/warehouse_lock.py)."""

    path: str
    raw_dir: str
    memory_limit: str = "2500MB"
    spill_dir: str = ""
    dbt_target: str = "duckdb"
    """The engine dbt builds on (profiles.yml): duckdb, or spark with its tables in `spark_dir`
    (defs/dbt/spark.py makes them views of this file)."""
    spark_dir: str = ""
    _held_for_run: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.run is None or context.instance is None:
            return  # built outside a run
        self._held_for_run = ExitStack()
        self._held_for_run.enter_context(
            hold_warehouse_for_run(self.file, context.run.run_id, context.instance, context.log.warning)
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._held_for_run.close()

    @property
    def file(self) -> Path:
        return Path(self.path)

    @property
    def spill_path(self) -> Path:
        """Where DuckDB writes what does not fit in `memory_limit` (beside the warehouse unless set)."""
        return Path(self.spill_dir) if self.spill_dir else self.file.parent / "spill"

    @property
    def spark_path(self) -> Path:
        """Spark's tables and metastore for the local spark target (beside the warehouse unless set)."""
        return Path(self.spark_dir) if self.spark_dir else self.file.parent / "spark"

    @property
    def raw_path(self) -> Path:
        return Path(self.raw_dir)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection that spills to disk beyond `memory_limit` instead of taking the machine's memory."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.spill_path.mkdir(parents=True, exist_ok=True)
        config = {
            "memory_limit": self.memory_limit,
            "preserve_insertion_order": False,
            "temp_directory": str(self.spill_path),
        }
        con = duckdb.connect(self.path, read_only=read_only, config=config)
        # Timestamps are UTC throughout (set after connecting: the time zone extension loads with the first use).
        con.execute("set TimeZone = 'UTC'")
        return con


class LandingResource(dg.ConfigurableResource):
    """The directory raw export files are dropped into."""

    directory: str

    @property
    def path(self) -> Path:
        return Path(self.directory)


class ServingResource(dg.ConfigurableResource):
    """The read-only DuckDB file BI tools and analysts query; replaced atomically by each publication."""

    path: str

    @property
    def file(self) -> Path:
        return Path(self.path)
