"""Loads landed export files into typed `raw.<source>` tables, checking every row against the contract.

A source arrives as `<source>.csv`, `<source>.parquet`, or a folder `<source>/` of such files. CSV files may
be German exports: semicolon separated, decimal commas, dd.mm.yyyy dates, Latin-1 or UTF-8 with BOM. Every
value that cannot be read, is missing where required, or breaks an allowed-values, range or pattern rule is
reported with its file, line and reason; one bad row fails the load, nothing is dropped silently.
Columns beyond the contract are kept as text. Loading replaces the table, so a rerun never duplicates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.defs.ingestion.contract import ColumnContract, SourceContract

SUPPORTED_SUFFIXES = (".csv", ".parquet")
MAX_REPORTED_PROBLEMS = 20


class LandingError(Exception):
    """A landed file does not satisfy the source contract; the message names file, line and reason."""


@dataclass(frozen=True)
class RowProblem:
    file: str
    location: str
    column: str
    value: str | None
    reason: str

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{self.file}, {self.location}, column {self.column}: {self.reason}{shown}"


@dataclass
class LoadReport:
    source: str
    table: str
    files: list[str] = field(default_factory=list)
    rows_per_file: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(self.rows_per_file.values())


def find_landing_files(landing_dir: Path, source: str) -> list[Path]:
    """The files holding `source`, in name order (later parts override earlier ones in staging)."""
    files = [landing_dir / f"{source}{suffix}" for suffix in SUPPORTED_SUFFIXES]
    found = [path for path in files if path.is_file()]
    folder = landing_dir / source
    if folder.is_dir():
        found += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return found


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def _canonical_key(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.lower())


def _stage_file(con: duckdb.DuckDBPyConnection, path: Path, display: str) -> bool:
    """Reads one file into the temp table `landing_file`; returns whether numbers use decimal commas."""
    con.execute("drop table if exists landing_file")
    try:
        if path.suffix.lower() == ".parquet":
            con.execute(f"create temp table landing_file as select * from read_parquet({_literal(str(path))})")
            return False
        for encoding in ("utf-8", "latin-1"):
            try:
                delimiter = con.execute(
                    f"select delimiter from sniff_csv({_literal(str(path))}, encoding = {_literal(encoding)})"
                ).fetchone()[0]
                con.execute(
                    "create temp table landing_file as select * from read_csv("
                    f"{_literal(str(path))}, all_varchar = true, header = true, delim = {_literal(delimiter)}, "
                    f"encoding = {_literal(encoding)})"
                )
                break
            except duckdb.InvalidInputException as error:
                # Exports from German Excel or older ERPs are often Latin-1 rather than UTF-8.
                if encoding == "latin-1" or "not utf-8 encoded" not in str(error):
                    raise
        return delimiter == ";"
    except duckdb.Error as error:
        raise LandingError(f"{display}: cannot be read as {path.suffix.lstrip('.')}: {error}") from error


def _parse_expression(column: ColumnContract, raw: str, raw_type: str, decimal_comma: bool) -> str:
    """SQL reading the staged value `raw` as the contract type; null where the value cannot be read."""
    if raw_type != "VARCHAR" and column.data_type != "varchar":
        return f"try_cast({raw} as {column.duckdb_type})"
    text = f"nullif(trim(cast({raw} as varchar)), '')"
    if column.data_type == "varchar":
        if column.allowed_values:
            cases = " ".join(f"when {_literal(_canonical_key(v))} then {_literal(v)}" for v in column.allowed_values)
            return f"case regexp_replace(lower({text}), '[^0-9a-z]', '', 'g') {cases} end"
        return text
    if column.data_type == "date":
        return (
            f"coalesce(try_cast({text} as date), cast(try_strptime({text}, '%d.%m.%Y') as date), "
            f"cast(try_cast({text} as timestamptz) as date))"
        )
    if column.data_type == "timestamp":
        return (
            f"coalesce(cast(try_cast({text} as timestamptz) as timestamp), "
            f"try_strptime({text}, ['%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M']))"
        )
    number = f"replace(replace({text}, '.', ''), ',', '.')" if decimal_comma else f"replace({text}, ',', '')"
    if column.data_type == "integer":
        exact = f"try_cast({number} as decimal(38, 6))"
        return f"case when {exact} = round({exact}) then cast({exact} as bigint) end"
    return f"try_cast({number} as {column.duckdb_type})"


def _problem_conditions(column: ColumnContract, raw: str, parsed: str) -> list[tuple[str, str]]:
    """(condition, reason) pairs; a row matching a condition breaks the contract."""
    raw_text = f"nullif(trim(cast({raw} as varchar)), '')"
    checks: list[tuple[str, str]] = []
    if column.allowed_values:
        checks.append(
            (
                f"{raw_text} is not null and {parsed} is null",
                f"not one of the allowed values {', '.join(column.allowed_values)}",
            )
        )
    else:
        checks.append((f"{raw_text} is not null and {parsed} is null", f"cannot be read as {column.data_type}"))
    if column.required:
        checks.append((f"{raw_text} is null", "required value is missing"))
    if column.minimum is not None:
        checks.append((f"{parsed} < {column.minimum}", f"below the minimum {column.minimum}"))
    if column.maximum is not None:
        checks.append((f"{parsed} > {column.maximum}", f"above the maximum {column.maximum}"))
    if column.pattern:
        checks.append(
            (
                f"not regexp_full_match({parsed}, {_literal(column.pattern)})",
                f"does not match the pattern {column.pattern}",
            )
        )
    return checks


def _read_checked(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, path: Path, display: str, target: str
) -> tuple[int, list[str]]:
    """Stages, checks and appends one file to the temp table `target`; returns its rows and extra columns."""
    decimal_comma = _stage_file(con, path, display)
    staged = con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = 'landing_file' order by column_index"
    ).fetchall()
    by_name: dict[str, tuple[str, str]] = {}
    for original, data_type in staged:
        name = _normalise_header(original)
        if name in by_name:
            raise LandingError(f"{display}: columns {by_name[name][0]!r} and {original!r} both map to {name!r}")
        by_name[name] = (original, data_type)

    missing = [c.name for c in contract.columns if c.required and c.name not in by_name]
    if missing:
        raise LandingError(
            f"{display}: required column(s) missing: {', '.join(missing)} (found: {', '.join(by_name) or 'none'})"
        )

    is_csv = path.suffix.lower() == ".csv"
    location = "'line ' || (rowid + 2)" if is_csv else "'row ' || (rowid + 1)"
    selects, problems = [], []
    for column in contract.columns:
        if column.name not in by_name:
            selects.append(f"cast(null as {column.duckdb_type}) as {_quote(column.name)}")
            continue
        original, raw_type = by_name[column.name]
        raw = _quote(original)
        parsed = _parse_expression(column, raw, raw_type, decimal_comma)
        selects.append(f"cast({parsed} as {column.duckdb_type}) as {_quote(column.name)}")
        for condition, reason in _problem_conditions(column, raw, parsed):
            problems.append(
                f"select rowid as row_index, {location} as location, {_literal(column.name)} as column_name, "
                f"cast({raw} as varchar) as value, {_literal(reason)} as reason "
                f"from landing_file where {condition}"
            )
    extras = [name for name in by_name if name not in contract.column_names and not name.startswith("_")]
    selects += [f"cast({_quote(by_name[name][0])} as varchar) as {_quote(name)}" for name in extras]

    if problems:
        union = " union all ".join(problems)
        found = con.execute(f"select count(*) from ({union})").fetchone()[0]
        if found:
            first = con.execute(
                f"select location, column_name, value, reason from ({union}) "
                f"order by row_index, column_name limit {MAX_REPORTED_PROBLEMS}"
            ).fetchall()
            listed = "\n  ".join(str(RowProblem(display, *row)) for row in first)
            more = f"\n  ... and {found - len(first)} more" if found > len(first) else ""
            raise LandingError(f"{display}: {found} value(s) break the {contract.name} contract:\n  {listed}{more}")

    select = ", ".join(selects)
    con.execute(
        f"create or replace temp table file_rows as select {select}, {_literal(display)} as _source_file, "
        f"cast(rowid + {2 if is_csv else 1} as bigint) as _source_row from landing_file"
    )
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = ? and temporary", [target]
    ).fetchone()[0]
    if exists:
        con.execute(
            f"create or replace temp table {target} as select * from {target} union all by name select * from file_rows"
        )
    else:
        con.execute(f"create temp table {target} as select * from file_rows")
    rows = con.execute("select count(*) from file_rows").fetchone()[0]
    return rows, extras


def load_source(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, files: list[Path], landing_dir: Path, schema: str = "raw"
) -> LoadReport:
    """Replaces `<schema>.<source>` with the checked content of `files` (an empty table when none)."""
    con.execute("set TimeZone = 'UTC'")
    report = LoadReport(source=contract.name, table=f"{schema}.{contract.name}")
    target = f"loaded_{contract.name}"
    con.execute(f"drop table if exists {target}")
    extras: list[str] = []
    for path in files:
        display = str(path.relative_to(landing_dir)) if path.is_relative_to(landing_dir) else str(path)
        rows, file_extras = _read_checked(con, contract, path, display, target)
        report.files.append(display)
        report.rows_per_file[display] = rows
        extras += [name for name in file_extras if name not in extras]
    report.extra_columns = extras

    if not files:
        columns = ", ".join(f"cast(null as {c.duckdb_type}) as {_quote(c.name)}" for c in contract.columns)
        con.execute(
            f"create temp table {target} as select {columns}, cast(null as varchar) as _source_file, "
            f"cast(null as bigint) as _source_row limit 0"
        )
    ordered = ", ".join(_quote(name) for name in (*contract.column_names, *extras, "_source_file", "_source_row"))
    con.execute(f"create schema if not exists {schema}")
    con.execute("begin transaction")
    try:
        con.execute(
            f"create or replace table {schema}.{_quote(contract.name)} as "
            f"select {ordered}, cast(now() as timestamp) as _loaded_at from {target}"
        )
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise
    finally:
        con.execute(f"drop table if exists {target}")
    return report
