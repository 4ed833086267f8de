"""The raw source contract, read from the dbt sources YAML so that it is written down exactly once.

Each column's `data_type` and `config.meta` drive the checks the ingestion applies to every landed row:
required, allowed_values, min, max, pattern, case (codes stored upper-case), not_in_future (an event
cannot have happened after the load), references (`accounts.account_id`: rows of unknown accounts are set
aside), personal_data, and erasure: what erasing a person (GDPR Art. 17) does to a personal-data column.
`row`: the column holds the e-mail address of the person the row is about (a survey answer); the row goes.
`value`: it holds an address of a person the row merely names (an account's contact); the value is cleared
and the row stays. Both get a keyed pseudonym. `mentions`: free text that may mention an address; the text
is cleared when it mentions an erased one. sentiment: free text whose language (German or English) and
polarity the loader adds as `_<column>_language` and `_<column>_sentiment` (comment_sentiment.py). parent_key:
the column names another row of the same file by that key column, its parent in a hierarchy (hierarchy.py
sets aside cycles and loads a row whose parent is not in the file without one). A table's
`config.meta` adds its primary_key, the event_date_column that dates its rows, and row_rules: conditions
between columns that every row must meet.
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
NUMERIC_TYPES = ("integer", "decimal(18,2)")
TEMPORAL_TYPES = ("date", "timestamp")
ERASURE_KINDS = ("row", "value", "mentions")


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
    upper_case: bool = False
    not_in_future: bool = False
    references: str | None = None
    personal_data: bool = False
    erasure: str | None = None
    sentiment: bool = False
    parent_key: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.data_type]


@dataclass(frozen=True)
class RowRule:
    """A condition between columns that every row must meet (SQL over the typed columns; null passes)."""

    column: str
    condition: str
    reason: str


@dataclass(frozen=True)
class SourceContract:
    name: str
    system: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[ColumnContract, ...]
    row_rules: tuple[RowRule, ...] = ()
    event_date_column: str | None = None
    required: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def account_reference(self) -> ColumnContract | None:
        """The column naming the account each row belongs to, when rows must refer to a known account."""
        return next((c for c in self.columns if c.references == "accounts.account_id"), None)

    @property
    def account_column(self) -> ColumnContract | None:
        """The column naming the account a row is about: erasing the account removes the row. In the accounts
        export itself that is its key."""
        if self.name == "accounts":
            return next(c for c in self.columns if c.name == "account_id")
        return self.account_reference

    @property
    def email_columns(self) -> tuple[ColumnContract, ...]:
        """Columns holding a person's e-mail address: they are pseudonymised with a keyed hash."""
        return tuple(c for c in self.columns if c.erasure in ("row", "value"))

    @property
    def mention_columns(self) -> tuple[ColumnContract, ...]:
        """Free-text columns that may mention an e-mail address."""
        return tuple(c for c in self.columns if c.erasure == "mentions")

    @property
    def sentiment_columns(self) -> tuple[ColumnContract, ...]:
        """Free-text columns whose language and sentiment the loader derives."""
        return tuple(c for c in self.columns if c.sentiment)

    @property
    def parent_column(self) -> ColumnContract | None:
        """The column naming each row's parent row of the same file (an account hierarchy), if any."""
        return next((c for c in self.columns if c.parent_key), None)


def _column(spec: dict) -> ColumnContract:
    meta = (spec.get("config") or {}).get("meta") or {}
    data_type = spec["data_type"]
    if data_type not in DUCKDB_TYPES:
        raise ValueError(f"column {spec['name']}: unsupported data_type {data_type!r}")
    if meta.get("case") not in (None, "upper"):
        raise ValueError(f"column {spec['name']}: case must be 'upper' (got {meta['case']!r})")
    if meta.get("not_in_future") and data_type not in TEMPORAL_TYPES:
        raise ValueError(f"column {spec['name']}: not_in_future needs a date or timestamp column")
    if meta.get("erasure") is not None and (
        meta["erasure"] not in ERASURE_KINDS or not meta.get("personal_data") or data_type != "varchar"
    ):
        raise ValueError(
            f"column {spec['name']}: erasure must be one of {', '.join(ERASURE_KINDS)}, on a personal_data varchar"
        )
    if meta.get("sentiment") and data_type != "varchar":
        raise ValueError(f"column {spec['name']}: sentiment needs a varchar column")
    return ColumnContract(
        name=spec["name"],
        data_type=data_type,
        description=spec.get("description", ""),
        required=bool(meta.get("required", False)),
        allowed_values=tuple(meta.get("allowed_values", ())),
        minimum=meta.get("min"),
        maximum=meta.get("max"),
        pattern=meta.get("pattern"),
        upper_case=meta.get("case") == "upper",
        not_in_future=bool(meta.get("not_in_future", False)),
        references=meta.get("references"),
        personal_data=bool(meta.get("personal_data", False)),
        erasure=meta.get("erasure"),
        sentiment=bool(meta.get("sentiment", False)),
        parent_key=meta.get("parent_key"),
    )


def _source(system: str, table: dict) -> SourceContract:
    meta = (table.get("config") or {}).get("meta") or {}
    columns = tuple(_column(column) for column in table["columns"])
    names = {column.name for column in columns}
    rules = tuple(RowRule(rule["column"], rule["condition"], rule["reason"]) for rule in meta.get("row_rules", ()))
    for rule in rules:
        if rule.column not in names:
            raise ValueError(f"{table['name']}: row rule on unknown column {rule.column!r}")
    for column in columns:
        if column.parent_key is not None and (
            (column.parent_key,) != tuple(meta["primary_key"]) or column.data_type != "varchar"
        ):
            raise ValueError(f"{table['name']}.{column.name}: parent_key must name the table's one-column key")
    event_date_column = meta.get("event_date_column")
    if event_date_column is not None and event_date_column not in names:
        raise ValueError(f"{table['name']}: unknown event_date_column {event_date_column!r}")
    return SourceContract(
        name=table["name"],
        system=system,
        description=" ".join(table.get("description", "").split()),
        primary_key=tuple(meta["primary_key"]),
        columns=columns,
        row_rules=rules,
        event_date_column=event_date_column,
        required=bool(meta.get("required", False)),
    )


@cache
def load_contracts(staging_dir: Path = STAGING_MODELS_DIR) -> dict[str, SourceContract]:
    """All raw source contracts by table name, in the order the YAML files define them."""
    contracts: dict[str, SourceContract] = {}
    for path in sorted(staging_dir.glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            if ((source.get("config") or {}).get("meta") or {}).get("contract", True) is False:
                continue  # tables the loader writes about the landed files, not exports
            for table in source["tables"]:
                contracts[table["name"]] = _source(source["name"], table)
    return contracts
