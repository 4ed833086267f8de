"""Files for CRM imports: per refresh one CSV and one JSON-lines file per CRM (HubSpot, Salesforce), holding the
accounts whose exported values changed since the previous export, under the CRM's own names
(seeds/crm_property_mapping.csv).

What was exported is remembered per account in exports.crm_export_state as a fingerprint of its change-tracked
values. The files are written under temporary names and renamed when complete; the state advances only after
that. A run stopped in between exports the same accounts again next time (the CRM import is an upsert on the
account id, so a repeated row changes nothing); a run never advances the state past files it did not finish.
When nothing changed no file is written: an import tool watching the directory finds nothing new.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

PROPERTIES = "marts.crm_account_properties"
STATE_TABLE = "exports.crm_export_state"
MAPPING_SEED = "seeds/crm_property_mapping.csv"
CRMS = {"hubspot": "hubspot_property", "salesforce": "salesforce_field"}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); the apostrophe makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_TYPES = {"string", "enumeration"}


@dataclass(frozen=True)
class MappedColumn:
    column_name: str
    hubspot_property: str
    hubspot_type: str
    salesforce_field: str
    is_change_tracked: bool
    decimal_places: int | None

    @property
    def expression(self) -> str:
        """The column as exported: numbers rounded, so that noise below the shown precision is no change."""
        if self.decimal_places is None:
            return self.column_name
        return f"round({self.column_name}, {int(self.decimal_places)})"

    @property
    def is_text(self) -> bool:
        return self.hubspot_type in TEXT_TYPES


@dataclass(frozen=True)
class ExportReport:
    accounts: int
    exported: int
    files: list[Path]


def load_mapping(con: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> list[MappedColumn]:
    """The mapping of each column, in the model's column order; a column without one stops the export."""
    rows = con.execute(
        "select column_name, hubspot_property, hubspot_type, salesforce_field, is_change_tracked, decimal_places "
        "from scorecard.crm_property_mapping"
    ).fetchall()
    mapping = {row[0]: MappedColumn(*row) for row in rows}
    unmapped = [column for column in columns if column not in mapping]
    if unmapped:
        raise ValueError(f"{MAPPING_SEED} has no row for {', '.join(unmapped)} of {PROPERTIES}")
    return [mapping[column] for column in columns]


def csv_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _json(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists exports")
    con.execute(
        f"create table if not exists {STATE_TABLE} (account_id varchar primary key, values_fingerprint varchar "
        "not null, export_name varchar not null, exported_at timestamp not null)"
    )


def changed_accounts(
    con: duckdb.DuckDBPyConnection, mapping: Sequence[MappedColumn]
) -> tuple[list[str], list[tuple], int]:
    """The columns, the rows of the accounts whose tracked values differ from the last export (with their
    fingerprint last), and the number of accounts."""
    tracked = [column.column_name for column in mapping if column.is_change_tracked]
    # Null and '' must differ, and no value may run into its neighbour: JSON of the values is unambiguous.
    fingerprint = "md5(cast(to_json([" + ", ".join(f"cast({c} as varchar)" for c in tracked) + "]) as varchar))"
    columns = [column.column_name for column in mapping]
    exported = ", ".join(f"{column.expression} as {column.column_name}" for column in mapping)
    cursor = con.execute(
        f"""
        with exported_values as (
            select {exported} from {PROPERTIES}
        ),

        current_values as (
            select *, {fingerprint} as values_fingerprint from exported_values
        )

        select current_values.*
        from current_values
        left join {STATE_TABLE} as state
            on current_values.account_id = state.account_id
        where state.values_fingerprint is distinct from current_values.values_fingerprint
        order by current_values.account_id
        """
    )
    rows = cursor.fetchall()
    accounts = con.execute(f"select count(*) from {PROPERTIES}").fetchall()[0][0]
    return columns, rows, accounts


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], text: Sequence[bool]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for row in rows:
            writer.writerow(
                csv_safe(_text(value)) if is_text and value is not None else _text(value)
                for value, is_text in zip(row, text, strict=True)
            )
        file.flush()
        os.fsync(file.fileno())


def _write_jsonl(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            record = {name: _json(value) for name, value in zip(header, row, strict=True)}
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
        file.flush()
        os.fsync(file.fileno())


def export_crm_properties(con: duckdb.DuckDBPyConnection, export_dir: Path, exported_at: dt.datetime) -> ExportReport:
    """Writes the changed accounts for each CRM into `export_dir`/<crm>/ and advances the state."""
    ensure_state_table(con)
    model_columns = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'marts' "
            "and table_name = 'crm_account_properties' order by column_index"
        ).fetchall()
    ]
    mapping = load_mapping(con, model_columns)
    columns, rows, accounts = changed_accounts(con, mapping)
    if not rows:
        return ExportReport(accounts=accounts, exported=0, files=[])
    export_name = f"account_properties_{exported_at:%Y%m%dT%H%M%S%fZ}"
    values = [row[:-1] for row in rows]
    text = [column.is_text for column in mapping]
    written: list[tuple[Path, Path]] = []
    try:
        for crm, name_field in CRMS.items():
            header = [getattr(column, name_field) for column in mapping]
            directory = export_dir / crm
            directory.mkdir(parents=True, exist_ok=True)
            for suffix, write in (
                (".csv", lambda path, header=header: _write_csv(path, header, values, text)),
                (".jsonl", lambda path, header=header: _write_jsonl(path, header, values)),
            ):
                final = directory / f"{crm}_{export_name}{suffix}"
                partial = directory / f".{final.name}.partial"
                written.append((partial, final))
                write(partial)
        for partial, final in written:
            os.replace(partial, final)
    finally:
        for partial, _ in written:
            partial.unlink(missing_ok=True)
    _advance_state(con, rows, columns.index("account_id"), export_name, exported_at)
    return ExportReport(accounts=accounts, exported=len(rows), files=[final for _, final in written])


def _advance_state(
    con: duckdb.DuckDBPyConnection, rows: list[tuple], id_index: int, export_name: str, exported_at: dt.datetime
) -> None:
    """One statement, so all accounts of the export advance or none does."""
    exported = pa.table(
        {"account_id": [row[id_index] for row in rows], "values_fingerprint": [row[-1] for row in rows]}
    )
    con.register("exported_accounts", exported)
    try:
        con.execute(
            f"insert or replace into {STATE_TABLE} select account_id, values_fingerprint, ?, ? from exported_accounts",
            [export_name, exported_at.astimezone(dt.UTC).replace(tzinfo=None)],
        )
    finally:
        con.unregister("exported_accounts")
