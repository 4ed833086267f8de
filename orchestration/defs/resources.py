"""Resources shared by the assets: the DuckDB warehouse and the landing directory."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file every asset writes. DuckDB allows one writer per file, so runs are serialised."""

    path: str

    @property
    def file(self) -> Path:
        return Path(self.path)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(self.path, read_only=read_only)


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
