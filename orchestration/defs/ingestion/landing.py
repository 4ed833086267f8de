"""Reads one landed export file and checks every row against the source contract.

A source arrives as `<source>.csv`, `<source>.parquet`, or a folder `<source>/` of such files. CSV files may
be German exports (semicolons, decimal commas, dd.mm.yyyy dates), in UTF-8 (with or without BOM), UTF-16,
Windows-1252 or Latin-1, with quoted line breaks inside fields; Parquet files may store timestamps in any
unit, with or without a time zone. Every value is typed by the contract; a row that breaks it (a value that
cannot be read, a missing required value, a value outside the allowed ones, an amount that would need
rounding, a rule between columns, an event in the future, a key that appears twice with different values)
is set aside with every reason, its file and its physical line, and the rest of the file loads; an account
hierarchy must be a tree within the file (hierarchy.py). Only a file that cannot be read at all fails. Columns
beyond the contract are kept as text.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.defs.ingestion.contract import NUMERIC_TYPES, ColumnContract, SourceContract
from orchestration.defs.ingestion.hierarchy import judge_hierarchy
from orchestration.defs.ingestion.load_rules import LoadRules

SUPPORTED_SUFFIXES = (".csv", ".parquet")
CSV_DELIMITERS = (",", ";", "\t", "|")
CSV_BATCH_ROWS = 200_000
SNIFF_BYTES = 256 * 1024


class LandingError(Exception):
    """A landed file cannot be read at all; the message names the file and the reason."""


@dataclass(frozen=True)
class CheckedFile:
    """The outcome of checking one landed file; its rows are in the temp table `checked_file`."""

    display: str
    rows_read: int
    rows_rejected: int
    problems: int
    first_event_date: dt.date | None
    last_event_date: dt.date | None
    newest_event_at: dt.datetime | None
    extra_columns: tuple[str, ...]
    unknown_parents: tuple[str, ...] = ()
    """Rows loaded without the parent they named, which is not in the file (hierarchy.py), as messages."""


def find_landing_files(landing_dir: Path, source: str) -> list[Path]:
    """The files holding `source`, in name order (later parts override earlier ones in staging)."""
    files = [landing_dir / f"{source}{suffix}" for suffix in SUPPORTED_SUFFIXES]
    found = [path for path in files if path.is_file()]
    folder = landing_dir / source
    if folder.is_dir():
        found += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return found


def stray_landing_files(landing_dir: Path, sources: list[str]) -> list[str]:
    """Files in the landing directory that belong to no source: misnamed exports are never loaded silently."""
    claimed = {path for source in sources for path in find_landing_files(landing_dir, source)}
    stray = []
    for path in sorted(landing_dir.rglob("*")) if landing_dir.is_dir() else []:
        if path.is_file() and path not in claimed and not any(part.startswith(".") for part in path.parts):
            stray.append(str(path.relative_to(landing_dir)))
    return stray


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def _canonical_key(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.lower())


# --- reading ----------------------------------------------------------------------------------------------


def _detect_encoding(path: Path) -> str:
    """UTF-16 and UTF-8 by their byte-order mark, then the first of UTF-8, Windows-1252 and Latin-1 that
    decodes the whole file (Latin-1 decodes anything; Windows-1252 differs from it in the euro sign and
    typographic quotes that Excel writes)."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header and the first rows into the same number (> 1) of fields."""
    lines = sample.splitlines(keepends=True)[:50]
    if len(sample) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut off
    best, best_score = ",", (-1, 0)
    for delimiter in CSV_DELIMITERS:
        rows = [row for row in csv.reader(io.StringIO("".join(lines)), delimiter=delimiter) if row]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(row) == width for row in rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_batches(path: Path, display: str) -> Iterator[pa.RecordBatch]:
    """The file's records as batches of text columns, each with the physical line it starts on. Rows with
    the wrong number of fields keep their fields in `_fields` and are set aside later."""
    encoding = _detect_encoding(path)
    with path.open(encoding=encoding, newline="") as f:
        sample = f.read(SNIFF_BYTES)
        f.seek(0)
        reader = csv.reader(f, delimiter=_sniff_delimiter(sample), quotechar='"', doublequote=True, strict=False)
        line = 0
        header = None
        while header is None:
            try:
                header = next(reader)
            except StopIteration:
                raise LandingError(f"{display}: the file is empty (no header line)") from None
            except csv.Error as error:
                raise LandingError(f"{display}, line {reader.line_num}: cannot be read as CSV: {error}") from error
            line = reader.line_num
            if not header:
                header = None
        names = [name.lstrip("\ufeff") for name in header]
        columns: list[list[str | None]] = [[] for _ in names]
        lines: list[int] = []
        malformed: list[str | None] = []
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                raise LandingError(f"{display}, line {start}: cannot be read as CSV: {error}") from error
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip() and len(names) > 1):
                continue  # blank line
            lines.append(start)
            if len(row) == len(names):
                for values, value in zip(columns, row, strict=True):
                    values.append(value)
                malformed.append(None)
            else:
                for values in columns:
                    values.append(None)
                malformed.append(f"{len(row)} fields where the header has {len(names)}")
            if len(lines) >= CSV_BATCH_ROWS:
                yield _batch(names, columns, lines, malformed)
                columns, lines, malformed = [[] for _ in names], [], []
        yield _batch(names, columns, lines, malformed)


def _batch(names: list[str], columns: list[list], lines: list[int], malformed: list) -> pa.RecordBatch:
    arrays = [pa.array(values, type=pa.string()) for values in columns]
    arrays += [pa.array(lines, type=pa.int64()), pa.array(malformed, type=pa.string())]
    return pa.RecordBatch.from_arrays(arrays, names=[*names, "_source_row", "_malformed"])


def stage_landing_file(con: duckdb.DuckDBPyConnection, path: Path, display: str) -> bool:
    """Reads one file into the temp table `landing_file` (its columns, `_source_row`, `_malformed`); returns
    whether it is a CSV file (rows are then located by physical line, otherwise by row number)."""
    con.execute("drop table if exists landing_file")
    if path.suffix.lower() == ".parquet":
        try:
            con.execute(
                "create temp table landing_file as select * exclude (file_row_number), "
                "file_row_number + 1 as _source_row, cast(null as varchar) as _malformed "
                f"from read_parquet({_literal(str(path))}, file_row_number = true)"
            )
        except duckdb.Error as error:
            raise LandingError(f"{display}: cannot be read as Parquet: {error}") from error
        return False
    try:
        batches = _csv_batches(path, display)
        first = next(batches)
    except (OSError, UnicodeError) as error:
        raise LandingError(f"{display}: cannot be read as CSV: {error}") from error
    names = first.schema.names
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise LandingError(f"{display}: the header repeats column(s) {', '.join(sorted(duplicates))}")
    con.register("csv_batch", first)
    con.execute("create temp table landing_file as select * from csv_batch")
    for batch in batches:
        con.register("csv_batch", batch)
        con.execute("insert into landing_file select * from csv_batch")
    con.unregister("csv_batch")
    return True


# --- typing and checking ----------------------------------------------------------------------------------

# Numbers in text: the decimal separator is decided per column from the values that show it unambiguously
# ("649,12", "12.345,50", "1.234.567" for a decimal comma); "1.234" alone could be either and is rejected.
_COMMA_EVIDENCE = (
    r"[+-]?\d+,\d*",
    r"[+-]?\d{1,3}(\.\d{3})+,\d+",
    r"[+-]?\d{1,3}(\.\d{3}){2,}",
)
_DOT_EVIDENCE = (
    r"[+-]?\d+\.\d*",
    r"[+-]?\d{1,3}(,\d{3})+\.\d+",
    r"[+-]?\d{1,3}(,\d{3}){2,}",
)
_AMBIGUOUS = r"[+-]?\d{1,3}[.,]\d{3}"
_COMMA_NUMBER = r"[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?"
_DOT_NUMBER = r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?"
_PLAIN_NUMBER = r"[+-]?\d+"


def _matches_any(text: str, patterns: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"regexp_full_match({text}, {_literal(p)})" for p in patterns) + ")"


def _evidence(text: str, patterns: tuple[str, ...]) -> str:
    return f"({_matches_any(text, patterns)} and not regexp_full_match({text}, {_literal(_AMBIGUOUS)}))"


def _text(raw: str) -> str:
    return f"nullif(trim(cast({raw} as varchar)), '')"


def _decimal_styles(con: duckdb.DuckDBPyConnection, columns: dict[str, str]) -> dict[str, str | None]:
    """'comma', 'dot' or None (no value decides) for each text column holding numbers, in one scan."""
    if not columns:
        return {}
    counts = ", ".join(
        f"count(*) filter (where {_evidence(_text(raw), _COMMA_EVIDENCE)}), "
        f"count(*) filter (where {_evidence(_text(raw), _DOT_EVIDENCE)})"
        for raw in columns.values()
    )
    row = con.execute(f"select {counts} from landing_file").fetchone()
    styles = {}
    for index, name in enumerate(columns):
        comma, dot = row[2 * index], row[2 * index + 1]
        styles[name] = None if comma == dot == 0 else "comma" if comma >= dot else "dot"
    return styles


# Parquet integer types (DuckDB's names), read into an integer column as they are.
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


@dataclass(frozen=True)
class _Typed:
    """How one contract column is read from the staged file: its typed value and why it may be unreadable."""

    parsed: str
    unreadable_reason: str
    # The rule's short name in raw.rejected_rows: a code outside the allowed ones is readable, just not allowed.
    unreadable_rule: str = "unreadable"
    # For amounts: the number before it is cast to cents, to tell a value that would be rounded.
    unrounded: str | None = None


def _typed(
    column: ColumnContract, raw: str, raw_type: str, decimal_style: str | None, mappings: dict[str, str]
) -> _Typed:
    text = _text(raw)
    if column.data_type == "varchar":
        value = f"upper({text})" if column.upper_case else text
        if mappings:
            cases = " ".join(f"when {_literal(k)} then {_literal(v)}" for k, v in mappings.items())
            value = f"coalesce(case lower({text}) {cases} end, {value})"
        if column.allowed_values:
            cases = " ".join(f"when {_literal(_canonical_key(v))} then {_literal(v)}" for v in column.allowed_values)
            value = f"case regexp_replace(lower({value}), '[^0-9a-z]', '', 'g') {cases} end"
            return _Typed(value, f"not one of the allowed values {', '.join(column.allowed_values)}", "allowed values")
        return _Typed(value, "cannot be read as text")
    if column.data_type in ("date", "timestamp") and raw_type != "VARCHAR":
        # Via TIMESTAMPTZ: DuckDB casts every Parquet flavour (s/ms/us/ns, with or without zone, INT96) to
        # it exactly, while a direct cast of a nanosecond zoned timestamp yields NULL.
        instant = f"try_cast(try_cast({raw} as timestamptz) as timestamp)"
        parsed = f"cast({instant} as date)" if column.data_type == "date" else instant
        return _Typed(parsed, f"cannot be read as {column.data_type}")
    if column.data_type == "date":
        return _Typed(
            f"coalesce(try_cast({text} as date), cast(try_strptime({text}, '%d.%m.%Y') as date), "
            f"cast(try_cast({text} as timestamptz) as date))",
            "cannot be read as a date (use YYYY-MM-DD or DD.MM.YYYY)",
        )
    if column.data_type == "timestamp":
        return _Typed(
            f"coalesce(cast(try_cast({text} as timestamptz) as timestamp), "
            f"try_strptime({text}, ['%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M']))",
            "cannot be read as a timestamp (use ISO 8601, e.g. 2026-10-31T14:05:00Z)",
        )
    if column.data_type == "integer" and raw_type in _INTEGER_TYPES:
        return _Typed(f"try_cast({raw} as bigint)", f"cannot be read as {column.data_type}")
    if raw_type != "VARCHAR":
        number = f"try_cast({raw} as decimal(38, 6))"
        reason = f"cannot be read as {column.data_type}"
    elif decimal_style == "comma":
        number = (
            f"case when regexp_full_match({text}, {_literal(_COMMA_NUMBER)}) "
            f"then try_cast(replace(replace({text}, '.', ''), ',', '.') as decimal(38, 6)) end"
        )
        reason = "not a number in this column's format (decimal comma, e.g. 1.234,56)"
    elif decimal_style == "dot":
        number = (
            f"case when regexp_full_match({text}, {_literal(_DOT_NUMBER)}) "
            f"then try_cast(replace({text}, ',', '') as decimal(38, 6)) end"
        )
        reason = "not a number in this column's format (decimal point, e.g. 1,234.56)"
    else:
        number = (
            f"case when regexp_full_match({text}, {_literal(_PLAIN_NUMBER)}) "
            f"then try_cast({text} as decimal(38, 6)) end"
        )
        reason = (
            "not a number, or ambiguous: '.' and ',' can be decimal or thousands separators and no other "
            "value in the column tells which"
        )
    if column.data_type == "integer":
        return _Typed(f"case when {number} = round({number}) then cast({number} as bigint) end", reason)
    return _Typed(f"try_cast({number} as decimal(18, 2))", reason, unrounded=number)


def _problem(column: str, value: str, reason: str, rule: str) -> str:
    """One reason a row is set aside: the column, the value as landed, why, and the rule's short name."""
    return (
        f"{{'column_name': {_literal(column)}, 'landed_value': {value}, 'reason': {reason}, 'rule': {_literal(rule)}}}"
    )


def check_staged_file(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    display: str,
    is_csv: bool,
    rules: LoadRules,
    loaded_at: dt.datetime,
) -> CheckedFile:
    """Types and checks the staged `landing_file` into the temp table `checked_file`: the contract columns,
    extra columns as text, `_source_file`, `_source_row` and `_problems` (empty for a row that loads)."""
    staged = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = 'temp' and table_name = 'landing_file' order by column_index"
    ).fetchall()
    by_name: dict[str, tuple[str, str]] = {}
    for original, data_type in staged:
        if original in ("_source_row", "_malformed"):
            continue
        name = _normalise_header(original)
        if name in by_name:
            raise LandingError(f"{display}: columns {by_name[name][0]!r} and {original!r} both map to {name!r}")
        by_name[name] = (original, data_type)
    missing = [c.name for c in contract.columns if c.required and c.name not in by_name]
    if missing:
        raise LandingError(
            f"{display}: required column(s) missing: {', '.join(missing)} (found: {', '.join(by_name) or 'none'})"
        )

    numeric_text = {
        c.name: _quote(by_name[c.name][0])
        for c in contract.columns
        if c.data_type in NUMERIC_TYPES and c.name in by_name and by_name[c.name][1] == "VARCHAR"
    }
    styles = _decimal_styles(con, numeric_text) if is_csv else {}
    latest_allowed = loaded_at + rules.future_tolerance(contract.name)

    typed_columns, problems = [], []
    for column in contract.columns:
        name = _quote(column.name)
        if column.name not in by_name:
            typed_columns.append(f"cast(null as {column.duckdb_type}) as {name}")
            continue
        original, raw_type = by_name[column.name]
        raw = _quote(original)
        typed = _typed(column, raw, raw_type, styles.get(column.name), rules.mappings(contract.name, column.name))
        typed_columns.append(f"cast({typed.parsed} as {column.duckdb_type}) as {name}")
        value = f"nullif(cast({raw} as varchar), '')"
        # A typed (Parquet) value is present unless null; only text can be blank. Casting every timestamp to
        # text just to ask this took a third of the checks' time.
        present = f"{_text(raw)} is not null" if raw_type == "VARCHAR" else f"{raw} is not null"
        checks = [(f"{present} and {typed.parsed} is null", typed.unreadable_reason, typed.unreadable_rule)]
        if column.required:
            checks.append((f"not ({present})", "required value is missing", "required"))
        if typed.unrounded:
            # Rounding '1.234' to 1.23 would load a value nobody wrote (in a column of decimal points it may
            # be a German thousand): set it aside, as an integer column does with 2.5.
            checks.append(
                (
                    f"{typed.unrounded} <> round({typed.unrounded}, 2)",
                    "more than 2 decimal places: amounts are kept to the cent, rounding would change it",
                    "decimal places",
                )
            )
        if column.minimum is not None:
            checks.append((f"{typed.parsed} < {column.minimum}", f"below the minimum {column.minimum:g}", "minimum"))
        if column.maximum is not None:
            checks.append((f"{typed.parsed} > {column.maximum}", f"above the maximum {column.maximum:g}", "maximum"))
        if column.pattern:
            checks.append(
                (
                    f"not regexp_full_match({typed.parsed}, {_literal(column.pattern)})",
                    f"does not match the pattern {column.pattern}",
                    "pattern",
                )
            )
        if column.not_in_future:
            limit = f"timestamp '{latest_allowed:%Y-%m-%d %H:%M:%S}'"
            checks.append(
                (
                    f"cast({typed.parsed} as timestamp) > {limit}",
                    f"in the future (after the load at {loaded_at:%Y-%m-%d %H:%M} UTC)",
                    "future",
                )
            )
        for condition, reason, rule in checks:
            problems.append(f"case when {condition} then {_problem(column.name, value, _literal(reason), rule)} end")

    extras = [name for name in by_name if name not in contract.column_names and not name.startswith("_")]
    extra_columns = [f"cast({_quote(by_name[name][0])} as varchar) as {_quote(name)}" for name in extras]
    rule_problems = [
        f"case when not coalesce({rule.condition}, true) then "
        f"{_problem(rule.column, f'cast({_quote(rule.column)} as varchar)', _literal(rule.reason), 'row rule')} end"
        for rule in contract.row_rules
    ]
    malformed = _problem("(row)", "cast(null as varchar)", "_malformed", "malformed row")
    # A row with the wrong number of fields has no values to judge; rules between columns are judged only
    # when every value could be read.
    rules_judged = (
        f"case when len(_column_problems) > 0 then _column_problems "
        f"else list_filter([{', '.join(rule_problems)}], lambda problem: problem is not null) end"
        if rule_problems
        else "_column_problems"
    )
    con.execute(f"""
        create or replace temp table checked_file as
        with typed as (
            select {", ".join([*typed_columns, *extra_columns])}, _source_row,
                case when _malformed is not null then [{malformed}]
                    else list_filter([{", ".join(problems)}], lambda problem: problem is not null)
                end as _column_problems
            from landing_file
        )
        select * exclude (_column_problems), {_literal(display)} as _source_file, {rules_judged} as _problems
        from typed
    """)
    _flag_conflicting_duplicates(con, contract, "line" if is_csv else "row")
    hierarchy = judge_hierarchy(con, contract, display, "line" if is_csv else "row")
    checked = summarise_checked_file(con, contract, display, tuple(extras))
    return dataclasses.replace(checked, unknown_parents=hierarchy.unknown_parents)


def summarise_checked_file(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, display: str, extra_columns: tuple[str, ...]
) -> CheckedFile:
    """Counts the rows of the temp table `checked_file` and dates those that load (again after rows were
    set aside later, e.g. rows of people erased on request)."""
    date_column = _quote(contract.event_date_column) if contract.event_date_column else "null"
    read, rejected, problem_count, first, last, newest = con.execute(f"""
        select count(*), count(*) filter (where len(_problems) > 0), sum(len(_problems)),
            min(cast({date_column} as date)) filter (where len(_problems) = 0),
            max(cast({date_column} as date)) filter (where len(_problems) = 0),
            max(cast({date_column} as timestamp)) filter (where len(_problems) = 0)
        from checked_file
    """).fetchone()
    return CheckedFile(display, read, rejected, int(problem_count or 0), first, last, newest, extra_columns)


def _flag_conflicting_duplicates(con: duckdb.DuckDBPyConnection, contract: SourceContract, unit: str) -> None:
    """Rows sharing a key with different values cannot both be right, and the file does not say which is:
    all of them are set aside, each naming the others. Identical repeats load (staging keeps one)."""
    key = ", ".join(_quote(c) for c in contract.primary_key)
    values = ", ".join(_quote(c) for c in contract.column_names)
    key_text = " || '/' || ".join(f"coalesce(cast({_quote(c)} as varchar), '')" for c in contract.primary_key)
    con.execute(f"""
        create or replace temp table conflicting_rows as
        with keyed as (
            select {key}, _source_row, hash({values}) as row_hash
            from checked_file
            where len(_problems) = 0
        ),
        conflicts as (
            select {key}
            from keyed
            group by {key}
            having count(distinct row_hash) > 1
        )
        select keyed._source_row,
            list(keyed._source_row) over (partition by {", ".join(f"keyed.{_quote(c)}" for c in contract.primary_key)})
                as key_rows
        from keyed
        inner join conflicts using ({key})
    """)
    if not con.execute("select count(*) from conflicting_rows").fetchone()[0]:
        return
    reason = (
        f"'the key ' || {key_text} || ' appears with different values on {unit}s ' "
        f"|| array_to_string(list_sort(conflicting_rows.key_rows), ', ') || '; none of them is loaded'"
    )
    con.execute(f"""
        update checked_file
        set _problems = [{_problem(",".join(contract.primary_key), key_text, reason, "conflicting duplicate")}]
        from conflicting_rows
        where checked_file._source_row = conflicting_rows._source_row
    """)
