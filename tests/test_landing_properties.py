"""Property-based tests of the landing loader: hypothesis writes whole CSV exports the way real tools do, and
injects the defects real exports have, and the loader must account for every record.

Each generated file has a random dialect (delimiter , ; tab |), encoding (UTF-8 with or without BOM,
Windows-1252, Latin-1, UTF-16), quoting, line ends (CRLF or LF), blank lines (also before the header),
header spelling and column order, optional columns left out, an extra column, free text with delimiters,
quotes and line breaks, a decimal comma or point per numeric column, ISO and German dates, timestamps with
and without offsets. Into it go defective rows: unreadable values, missing required values, codes outside
the allowed ones, numbers out of range, broken rules between columns (paid before issued, resolved before
opened), events in the future, keys repeated with different values, rows with too many or too few fields,
unknown accounts. Identical repeats (written differently) and events within the future tolerance are not
defects and must load.

Invariants, for every file:
- rows read = rows loaded + rows set aside, and rows read = the records written;
- no defective row loads: each is in raw.rejected_rows under the physical line its record starts on, with
  reasons naming exactly the column its defect is in;
- every clean row loads with exactly the values generated (round trip through text, encoding and typing),
  under the line its record starts on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.defs.ingestion.contract import ColumnContract, load_contracts
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import RawStore

CONTRACTS = load_contracts()
# Modest by default, so the file runs in well under a minute; LANDING_PROPERTY_EXAMPLES=1000 searches deeper.
EXAMPLES = int(os.environ.get("LANDING_PROPERTY_EXAMPLES", "25"))
RULES = load_rules()
NOW = dt.datetime(2026, 11, 1, 12, 0)
LAST_DAY = dt.date(2026, 10, 31)
KNOWN_ACCOUNTS = ("ACC-001", "ACC-002", "ACC-003")
UNKNOWN_ACCOUNT = "ACC-404"
ACCOUNTS_CSV = "account_id,account_name,segment,arr,currency,seats,contract_start_date\n" + "".join(
    f"{account},Account {account},SMB,1000,EUR,5,2024-01-01\n" for account in KNOWN_ACCOUNTS
)
EXTRA_COLUMN = "Internal Note"  # normalised to internal_note, kept as text
KEY_PREFIX = {
    "accounts": "ACC-X",
    "invoices": "INV-",
    "support_tickets": "T",
    "usage_events": "evt_",
    "survey_responses": "R-",
}
SOURCES = tuple(KEY_PREFIX)

# Words per encoding. Windows-1252 and Latin-1 text never holds two non-ASCII characters in a row that
# would also read as UTF-8 (such a file is genuinely ambiguous; no export writes 'Ã©' on purpose).
ASCII_WORDS = ("bug", "how to", "billing", "API", "reports", "O'Brien", "a,b", "x;y", '5" screen', "pipe|bar")
LATIN1_WORDS = ("Müller", "Bäckerei", "Süß", "Straße", "Café", "Übersicht")
CP1252_WORDS = ("5 €", "„Filiale“", "Preis – neu", "‚ok‘")
UNICODE_WORDS = ("Zürich 🙂", "Łódź", "東京")
WORDS = {
    "utf-8": ASCII_WORDS + LATIN1_WORDS + CP1252_WORDS + UNICODE_WORDS,
    "utf-8-sig": ASCII_WORDS + LATIN1_WORDS + CP1252_WORDS + UNICODE_WORDS,
    "utf-16": ASCII_WORDS + LATIN1_WORDS + CP1252_WORDS + UNICODE_WORDS,
    "cp1252": ASCII_WORDS + LATIN1_WORDS + CP1252_WORDS,
    "latin-1": ASCII_WORDS + LATIN1_WORDS,
}
WORD_SEPARATORS = (" ", " ", "\n", "\r\n", "\n\n", ", ", "; ", "\t", " | ")  # "\n\n": a blank line inside a field

UNREADABLE = {
    "date": ("31.02.2026", "2026-13-01", "gestern", "2026/99/99"),
    "timestamp": ("31.02.2026 10:00", "noon", "2026-01-01T25:00:00Z", "2026-02-30 10:00:00"),
    "decimal(18,2)": ("abc", "n/a", "12,34,56", "1.2.3", "--5", "€ 12"),
    "integer": ("drei", "2,5", "1e3", "4.5.6"),
}
DISALLOWED_CODES = ("critical", "Hoch", "bezahlt", "n/a", "???", "KMU")
BAD_CODES = ("EURO", "€", "US$", "1EU", "Deutschland")  # no country, no currency code
OTHER_SEPARATOR = re.compile(r"\d+[.,]\d\d")


# --- the typed rows a source's export describes ------------------------------------------------------------


def _within(start: dt.datetime, most: dt.timedelta):
    """A moment from `start` up to `most` later in whole seconds (never before `start`), never after the load."""
    return st.timedeltas(dt.timedelta(0), most).map(
        lambda delta: min(max(start, (start + delta).replace(microsecond=0)), NOW)
    )


# Mostly whole seconds, as most exports write; some with fractions of a second.
MOMENTS = st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 10, 31, 23, 59, 59)).flatmap(
    lambda moment: st.sampled_from((moment.replace(microsecond=0), moment))
)
# Events up to a few hours after the load: clocks and time zones differ, within the tolerance they load.
NEAR_FUTURE = st.timedeltas(dt.timedelta(0), dt.timedelta(hours=20)).map(lambda d: (NOW + d).replace(microsecond=0))
DAYS = st.dates(dt.date(2024, 1, 1), LAST_DAY)
MONEY = st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2)


@st.composite
def account(draw, text) -> dict:
    start = draw(DAYS)
    return {
        "account_name": draw(text),
        "segment": draw(st.sampled_from(("SMB", "Mid-Market", "Enterprise"))),
        "plan": draw(st.none() | text),
        "country": draw(st.none() | st.sampled_from(("DE", "AT", "CH", "FR", "GB"))),
        "arr": draw(MONEY),
        "currency": draw(st.sampled_from(("EUR", "USD", "CHF", "GBP"))),
        "seats": draw(st.integers(1, 5000)),
        "contract_start_date": start,
        "renewal_date": draw(st.none() | st.integers(0, 730).map(lambda d: start + dt.timedelta(d))),
        "csm_owner": draw(st.none() | text),
        "lifecycle_stage": draw(st.none() | st.sampled_from(("onboarding", "adopted", "renewal"))),
        "contact_email": draw(st.none() | st.sampled_from(("anna@example.com", "Ben.Meyer@Example.de"))),
    }


@st.composite
def invoice(draw, text) -> dict:
    issued = draw(DAYS)
    paid = draw(st.none() | st.integers(0, (LAST_DAY - issued).days).map(lambda d: issued + dt.timedelta(d)))
    return {
        "account_id": draw(st.sampled_from(KNOWN_ACCOUNTS)),
        "issued_date": issued,
        "due_date": issued + dt.timedelta(days=draw(st.integers(0, 60))),
        "paid_date": paid,
        "amount": draw(MONEY),
        "currency": draw(st.sampled_from(("EUR", "USD", "CHF", "GBP"))),
        "status": draw(st.sampled_from(CONTRACTS["invoices"].columns[7].allowed_values)),
    }


@st.composite
def support_ticket(draw, text) -> dict:
    opened = draw(MOMENTS)
    return {
        "account_id": draw(st.sampled_from(KNOWN_ACCOUNTS)),
        "opened_at": opened,
        "first_response_at": draw(st.none() | _within(opened, dt.timedelta(days=3))),
        "resolved_at": draw(st.none() | _within(opened, dt.timedelta(days=30))),
        "priority": draw(st.sampled_from(("low", "normal", "high", "urgent"))),
        "category": draw(st.none() | text),
        "status": draw(st.sampled_from(("open", "pending", "solved", "closed"))),
        "csat_rating": draw(st.none() | st.integers(1, 5)),
    }


@st.composite
def usage_event(draw, text) -> dict:
    return {
        "account_id": draw(st.sampled_from(KNOWN_ACCOUNTS)),
        "user_id": f"U{draw(st.integers(1, 99))}",
        "occurred_at": draw(MOMENTS | NEAR_FUTURE),
        "feature": draw(text),
        "duration_seconds": draw(st.none() | st.integers(0, 10**6)),
    }


@st.composite
def survey_response(draw, text) -> dict:
    survey_type = draw(st.sampled_from(("nps", "csat")))
    return {
        "account_id": draw(st.sampled_from(KNOWN_ACCOUNTS)),
        "respondent_email": draw(st.none() | st.sampled_from(("anna@example.com", "Ben.Meyer@Example.de"))),
        "responded_at": draw(MOMENTS),
        "survey_type": survey_type,
        "score": draw(st.integers(0, 10) if survey_type == "nps" else st.integers(1, 5)),
        "comment": draw(st.none() | text),
    }


ROWS = {
    "accounts": account,
    "invoices": invoice,
    "support_tickets": support_ticket,
    "usage_events": usage_event,
    "survey_responses": survey_response,
}


def _changed(source: str, row: dict) -> dict:
    """The same key with a different value in a column every row has: a conflicting duplicate."""
    if source == "invoices":
        return {**row, "amount": row["amount"] + 1}
    if source == "support_tickets":
        return {**row, "priority": "urgent" if row["priority"] != "urgent" else "low"}
    if source == "usage_events":
        return {**row, "feature": row["feature"] + " v2"}
    if source == "accounts":
        return {**row, "seats": row["seats"] + 1}
    return {**row, "account_id": next(a for a in KNOWN_ACCOUNTS if a != row["account_id"])}


def _broken_rule(draw, source: str, row: dict, present: set[str]) -> tuple[dict, str] | None:
    """The row with a rule between its columns broken, and the column the rule is reported on."""
    if source == "invoices":
        choices = ["due_date"] + (["paid_date"] if "paid_date" in present else [])
        column = draw(st.sampled_from(choices))
        return {**row, column: row["issued_date"] - dt.timedelta(days=draw(st.integers(1, 400)))}, column
    if source == "support_tickets":
        choices = [c for c in ("first_response_at", "resolved_at") if c in present]
        if not choices:
            return None
        column = draw(st.sampled_from(choices))
        return {**row, column: row["opened_at"] - dt.timedelta(seconds=draw(st.integers(1, 10**7)))}, column
    if source == "survey_responses":
        return {**row, "survey_type": "csat", "score": draw(st.sampled_from((0, 6, 9, 10)))}, "score"
    if source == "accounts" and "renewal_date" in present:
        return {**row, "renewal_date": row["contract_start_date"] - dt.timedelta(days=draw(st.integers(1, 400)))}, (
            "renewal_date"
        )
    return None


# --- writing values as exports do ----------------------------------------------------------------------------


def _grouped(digits: str, separator: str) -> str:
    groups = []
    while len(digits) > 3:
        digits, group = digits[:-3], digits[-3:]
        groups.insert(0, group)
    return separator.join([digits, *groups])


@dataclass(frozen=True)
class Number:
    text: str
    decisive: bool  # shows the column's decimal separator beyond doubt (the loader decides per column)


def _number(draw, value: Decimal, style: str, force_decisive: bool = False) -> Number:
    decimal_mark, group_mark = (",", ".") if style == "comma" else (".", ",")
    sign = "-" if value < 0 else ""
    units, cents = divmod(abs(value) * 100, 100)
    units_text = str(int(units))
    grouped = draw(st.booleans()) and len(units_text) > 3
    if grouped:
        units_text = _grouped(units_text, group_mark)
    fraction = f"{int(cents):02d}"
    if cents and fraction.endswith("0") and draw(st.booleans()):
        fraction = fraction[0]  # 649,5
    with_fraction = force_decisive or bool(cents) or draw(st.booleans())
    text = sign + units_text + (decimal_mark + fraction if with_fraction else "")
    return Number(text, with_fraction or units_text.count(group_mark) >= 2)


def _timestamp(draw, moment: dt.datetime) -> str:
    """The moment (UTC) as exports write it; only formats that show all of it."""
    formats = ["iso_z", "iso_space", "iso_offset"]
    if moment.microsecond == 0:
        formats.append("german_seconds")
        if moment.second == 0:
            formats += ["german_minutes", "iso_minutes"]
            if moment.hour == moment.minute == 0:
                formats.append("date_only")
    kind = draw(st.sampled_from(formats))
    fraction = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
    if kind == "iso_z":
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    if kind == "iso_space":
        return moment.strftime("%Y-%m-%d %H:%M:%S") + fraction
    if kind == "iso_offset":
        hours = draw(st.sampled_from((-5, 1, 2, 9)))
        local = moment + dt.timedelta(hours=hours)
        colon = draw(st.sampled_from((":", "")))
        return local.strftime("%Y-%m-%dT%H:%M:%S") + fraction + f"{'+' if hours >= 0 else '-'}{abs(hours):02d}{colon}00"
    if kind == "iso_minutes":
        return moment.strftime("%Y-%m-%dT%H:%M")
    if kind == "date_only":
        return moment.strftime("%Y-%m-%d")
    if kind == "german_minutes":
        return moment.strftime("%d.%m.%Y %H:%M")
    return moment.strftime("%d.%m.%Y %H:%M:%S")


def _date(draw, day: dt.date) -> str:
    return draw(st.sampled_from((day.isoformat(), day.strftime("%d.%m.%Y"), f"{day.day}.{day.month}.{day.year}")))


def _code(draw, column: ColumnContract, value: str, source: str) -> str:
    """A code as exports spell it: any case, padded, or an export's own word that seeds/value_mappings.csv
    maps to it."""
    spellings = [value, value.upper(), value.capitalize(), f" {value} ", value.lower().replace("-", " ")]
    spellings += [
        landed.capitalize() for landed, mapped in RULES.mappings(source, column.name).items() if mapped == value
    ]
    return draw(st.sampled_from(spellings))


def render(draw, source: str, column: ColumnContract, value, style: str | None) -> str | Number:
    if value is None:
        return ""
    if column.data_type == "date":
        return _date(draw, value)
    if column.data_type == "timestamp":
        return _timestamp(draw, value)
    if column.data_type == "integer":
        return str(value)
    if column.data_type == "decimal(18,2)":
        return _number(draw, value, style)
    if column.allowed_values:
        return _code(draw, column, value, source)
    if column.upper_case:
        return draw(st.sampled_from((value, value.lower(), value.capitalize())))
    return value


# --- a whole export with its defects -------------------------------------------------------------------------


@dataclass
class Record:
    values: dict  # typed, by contract column
    defect_column: str | None = None  # the column the loader must name; None for a clean row
    override: dict = field(default_factory=dict)  # contract column -> text written instead of the value
    fields_delta: int = 0  # > 0: fields added, < 0: fields cut off
    note: str = ""  # the extra column's text
    line: int = 0  # physical line the record starts on


@dataclass
class Export:
    source: str
    content: bytes
    records: list[Record]
    present: list[str]
    has_extra: bool
    description: str

    @property
    def clean(self) -> list[Record]:
        return [r for r in self.records if r.defect_column is None]


DEFECTS = (
    "unreadable",
    "missing",
    "disallowed",
    "out_of_range",
    "future",
    "broken_rule",
    "conflicting_duplicate",
    "too_many_fields",
    "too_few_fields",
    "unknown_account",
    "other_decimal_separator",
    "more_than_two_decimals",
)


@dataclass(frozen=True)
class Layout:
    """How one generated file lays out its source: the columns it has, in which order, how numbers look."""

    source: str
    encoding: str
    order: list[str]  # contract columns present, in file order
    has_extra: bool
    styles: dict[str, str]  # decimal column -> 'comma' or 'dot'

    @property
    def columns(self) -> dict[str, ColumnContract]:
        return {c.name: c for c in CONTRACTS[self.source].columns}

    @property
    def key(self) -> str:
        return ",".join(CONTRACTS[self.source].primary_key)

    def writable(self, values: tuple[str, ...]):
        """The values this file's encoding can hold ('€' has no place in Latin-1)."""
        return st.sampled_from(
            [v for v in values if v.encode(self.encoding, errors="ignore").decode(self.encoding) == v]
        )


def _with_defect(draw, defect: str, record: Record, layout: Layout) -> list[Record]:
    """`record` (clean) turned into a row with `defect`, plus its twin for a conflicting duplicate; no row
    when the defect does not apply to this layout."""
    columns, order = layout.columns, layout.order
    typed = [c for c in order if columns[c].data_type in UNREADABLE]
    codes = [c for c in order if columns[c].allowed_values or columns[c].pattern]
    bounded = [c for c in order if columns[c].minimum is not None or columns[c].maximum is not None]
    if defect == "unreadable" and typed:
        column = draw(st.sampled_from(typed))
        record.override[column] = draw(layout.writable(UNREADABLE[columns[column].data_type]))
    elif defect == "missing":
        column = draw(st.sampled_from([c for c in order if columns[c].required]))
        record.override[column] = draw(st.sampled_from(("", "  ")))
    elif defect == "disallowed" and codes:
        column = draw(st.sampled_from(codes))
        record.override[column] = draw(
            layout.writable(DISALLOWED_CODES if columns[column].allowed_values else BAD_CODES)
        )
    elif defect == "out_of_range" and bounded:
        column = draw(st.sampled_from(bounded))
        low, high = columns[column].minimum, columns[column].maximum
        below = low is not None and (high is None or draw(st.booleans()))
        step = draw(st.integers(1, 1000))
        value = low - step if below else high + step
        is_amount = columns[column].data_type == "decimal(18,2)"
        record.values[column] = Decimal(value) - Decimal("0.01") if is_amount else int(value)
    elif defect == "future" and (dated := [c for c in order if columns[c].not_in_future]):
        column = draw(st.sampled_from(dated))
        moment = draw(st.datetimes(dt.datetime(2026, 11, 3), dt.datetime(2031, 12, 31))).replace(microsecond=0)
        record.values[column] = moment.date() if columns[column].data_type == "date" else moment
    elif defect == "broken_rule" and (broken := _broken_rule(draw, layout.source, record.values, set(order))):
        record.values, column = broken
    elif defect == "conflicting_duplicate":
        record.defect_column = layout.key
        return [record, Record(_changed(layout.source, record.values), layout.key, note=record.note)]
    elif defect in ("too_many_fields", "too_few_fields"):
        width = len(order) + layout.has_extra
        cut = -draw(st.integers(1, width - 2))  # at least two fields stay: one empty field is a blank line
        record.fields_delta = draw(st.integers(1, 3)) if defect == "too_many_fields" else cut
        column = "(row)"
    elif defect == "unknown_account" and CONTRACTS[layout.source].account_reference:
        record.values["account_id"] = UNKNOWN_ACCOUNT
        column = "account_id"
    elif defect == "other_decimal_separator" and layout.styles:
        # '649,12' in a column written with decimal points (or '649.12' among decimal commas).
        column = draw(st.sampled_from(sorted(layout.styles)))
        separator = "." if layout.styles[column] == "comma" else ","
        record.override[column] = f"{draw(st.integers(0, 999))}{separator}{draw(st.integers(10, 99))}"
    elif defect == "more_than_two_decimals" and layout.styles:
        # '649,125' among decimal commas, '1.234' among decimal points: rounding to cents would change them.
        column = draw(st.sampled_from(sorted(layout.styles)))
        mark = "," if layout.styles[column] == "comma" else "."
        record.override[column] = (
            f"{draw(st.integers(0, 99999))}{mark}{draw(st.integers(1, 99)):02d}{draw(st.integers(1, 9))}"
        )
    else:
        return []
    record.defect_column = column
    return [record]


@st.composite
def exports(draw, source: str) -> Export:
    contract = CONTRACTS[source]
    encoding = draw(st.sampled_from(tuple(WORDS)))
    delimiter = draw(st.sampled_from((",", ";", "\t", "|")))
    line_end = draw(st.sampled_from(("\n", "\r\n")))
    quoting = draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL)))
    words = st.sampled_from(WORDS[encoding])
    text = st.tuples(words, st.lists(st.tuples(st.sampled_from(WORD_SEPARATORS), words), max_size=3)).map(
        lambda parts: parts[0] + "".join(separator + word for separator, word in parts[1])
    )
    optional = [c.name for c in contract.columns if not c.required]
    present = {c.name for c in contract.columns if c.required} | set(
        draw(st.lists(st.sampled_from(optional), unique=True))
    )
    layout = Layout(
        source=source,
        encoding=encoding,
        order=list(draw(st.permutations([c.name for c in contract.columns if c.name in present]))),
        has_extra=draw(st.booleans()),
        styles={
            c.name: draw(st.sampled_from(("comma", "dot"))) for c in contract.columns if c.data_type == "decimal(18,2)"
        },
    )
    columns, order, has_extra, styles = layout.columns, layout.order, layout.has_extra, layout.styles
    header_names = [
        draw(st.sampled_from((name, name.upper(), name.replace("_", " ").title(), name.replace("_", "-"))))
        for name in order
    ]
    row = ROWS[source](text)
    counter = iter(range(1, 10_000))

    def fresh() -> Record:
        values = dict(draw(row))
        values.update({name: f"{KEY_PREFIX[source]}{next(counter):05d}" for name in contract.primary_key})
        note = draw(st.sampled_from(("", "checked", "Rückfrage offen"))) if has_extra else ""
        return Record({c: values.get(c) for c in columns}, note=note)

    records = [fresh() for _ in range(draw(st.integers(0, 8)))]
    for _ in range(draw(st.integers(0, 2))):  # identical repeats, written differently: not a defect
        original = fresh()
        records += [original, Record(dict(original.values), note=original.note)]
    for defect in draw(st.lists(st.sampled_from(DEFECTS), max_size=6)):
        records += _with_defect(draw, defect, fresh(), layout)
    records = draw(st.permutations(records))

    # Cells in file order. The loader decides each numeric column's decimal separator from the values that
    # show it beyond doubt (a tie goes to the comma). So at least one value shows the column's separator and
    # those outnumber the ones written with the other (defects): otherwise the column is ambiguous, and the
    # loader rightly sets aside what it cannot read for certain.
    cells: list[list[str]] = []
    decisive: set[tuple[int, str]] = set()
    for index, record in enumerate(records):
        row_cells = []
        for name in order:
            if name in record.override:
                row_cells.append(record.override[name])
                continue
            written = render(draw, source, columns[name], record.values[name], styles.get(name))
            if isinstance(written, Number):
                if written.decisive and not record.fields_delta:  # a malformed row's values are not read
                    decisive.add((index, name))
                written = written.text
            row_cells.append(written)
        cells.append(row_cells + ([record.note] if has_extra else []))
    for name, style in styles.items():
        position = order.index(name)
        other_style = [
            i
            for i, r in enumerate(records)
            if r.defect_column == name and OTHER_SEPARATOR.fullmatch(r.override.get(name, ""))
        ]
        shown = sum(1 for index, column in decisive if column == name)
        for index, record in enumerate(records):
            if shown >= (max(len(other_style), 1) if style == "comma" else len(other_style) + 1):
                break
            if (
                (index, name) in decisive
                or record.fields_delta
                or name in record.override
                or record.values[name] is None
            ):
                continue
            cells[index][position] = _number(draw, record.values[name], style, force_decisive=True).text
            shown += 1
        while other_style and shown < (len(other_style) if style == "comma" else len(other_style) + 1):
            cells[other_style.pop()][position] = "abc"  # still unreadable, now without a separator
    for record, row_cells in zip(records, cells, strict=True):
        if record.fields_delta > 0:
            row_cells += ["x"] * record.fields_delta
        elif record.fields_delta < 0:
            del row_cells[record.fields_delta :]

    # The file, counting physical lines as an editor shows them: a quoted line break starts a new line.
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=line_end)
    buffer.write(line_end * draw(st.sampled_from((0, 0, 1, 2))))
    writer.writerow([*header_names, *([EXTRA_COLUMN] if has_extra else [])])
    for record, row_cells in zip(records, cells, strict=True):
        buffer.write(line_end * draw(st.sampled_from((0, 0, 0, 1, 2))))
        record.line = buffer.getvalue().count("\n") + 1
        writer.writerow(row_cells)
    if draw(st.booleans()):
        buffer.write(line_end)
    description = (
        f"{source}.csv in {encoding}, delimiter {delimiter!r}, line end {line_end!r}, quoting {quoting}, "
        f"decimal styles {styles}"
    )
    return Export(source, buffer.getvalue().encode(encoding), records, order, has_extra, description)


# --- loading and the invariants ------------------------------------------------------------------------------


def load(export: Export, root: Path, con: duckdb.DuckDBPyConnection):
    landing = root / "landing"
    landing.mkdir()
    (landing / "accounts.csv").write_text(ACCOUNTS_CSV)
    (landing / f"{export.source}.csv").write_bytes(export.content)
    store = RawStore(con, root / "raw")
    for source in dict.fromkeys(("accounts", export.source)):
        result = store.load(CONTRACTS[source], find_landing_files(landing, source), landing, RULES, NOW)
        assert not result.errors, result.errors
        store.commit(CONTRACTS[source], result, NOW)
    return result


def expected_row(export: Export, record: Record) -> tuple:
    contract = CONTRACTS[export.source]
    values = tuple(record.values[c.name] if c.name in export.present else None for c in contract.columns)
    return (record.line, *values, *((record.note,) if export.has_extra else ()))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@pytest.mark.parametrize("source", SOURCES)
@given(data=st.data())
def test_every_record_of_a_hostile_export_is_loaded_exactly_or_set_aside_with_its_reason(source, data):
    export = data.draw(exports(source), label="export")
    contract = CONTRACTS[source]
    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        result = load(export, Path(folder), con)
        extra = ", internal_note" if export.has_extra else ""
        loaded = con.execute(
            f"select _source_row, {', '.join(contract.column_names)}{extra} from raw.{source} order by _source_row"
        ).fetchall()
        reasons: dict[int, set[str]] = {}
        for line, location, column in con.execute(
            "select source_row, location, column_name from raw.rejected_rows where source = ?", [source]
        ).fetchall():
            assert location == f"line {line}"
            reasons.setdefault(line, set()).add(column)

    assert result.rows_read == len(export.records), export.description
    assert result.rows_read == len(loaded) + len(reasons) == result.rows_loaded + result.rows_rejected
    defective = {r.line: {r.defect_column} for r in export.records if r.defect_column is not None}
    assert reasons == defective, export.description
    assert loaded == sorted(expected_row(export, r) for r in export.clean), export.description
