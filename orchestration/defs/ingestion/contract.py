"""The raw source contract, read from the dbt sources YAML so that it is written down exactly once.

Each column's `data_type` and `config.meta` (required, allowed_values, min, max, pattern, personal_data)
drive the checks the ingestion applies to every landed row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from orchestration.settings import STAGING_MODELS_DIR

DUCKDB_TYPES = {
    "varchar": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "integer": "BIGINT",
    "decimal(18,2)": "DECIMAL(18,2)",
}


@dataclass(frozen=True)
class ColumnContract:
    name: str
    data_type: str
    description: str
    required: bool = False
    allowed_values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    personal_data: bool = False

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.data_type]


@dataclass(frozen=True)
class SourceContract:
    name: str
    system: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[ColumnContract, ...]
    required: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _column(spec: dict) -> ColumnContract:
    meta = (spec.get("config") or {}).get("meta") or {}
    data_type = spec["data_type"]
    if data_type not in DUCKDB_TYPES:
        raise ValueError(f"column {spec['name']}: unsupported data_type {data_type!r}")
    return ColumnContract(
        name=spec["name"],
        data_type=data_type,
        description=spec.get("description", ""),
        required=bool(meta.get("required", False)),
        allowed_values=tuple(meta.get("allowed_values", ())),
        minimum=meta.get("min"),
        maximum=meta.get("max"),
        pattern=meta.get("pattern"),
        personal_data=bool(meta.get("personal_data", False)),
    )


@cache
def load_contracts(staging_dir: Path = STAGING_MODELS_DIR) -> dict[str, SourceContract]:
    """All raw source contracts by table name, in the order the YAML files define them."""
    contracts: dict[str, SourceContract] = {}
    for path in sorted(staging_dir.glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                meta = (table.get("config") or {}).get("meta") or {}
                contracts[table["name"]] = SourceContract(
                    name=table["name"],
                    system=source["name"],
                    description=" ".join(table.get("description", "").split()),
                    primary_key=tuple(meta["primary_key"]),
                    columns=tuple(_column(column) for column in table["columns"]),
                    required=bool(meta.get("required", False)),
                )
    return contracts
