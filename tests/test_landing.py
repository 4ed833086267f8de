"""The landing loader: formats real exports come in, rows that break the contract set aside with their reasons,
files loaded again only when they change."""

import datetime as dt
import decimal
import os
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.defs.ingestion.checks import landing_directory_check
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.landing import find_landing_files, stray_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import RawStore, SourceLoad
from orchestration.defs.resources import LandingResource

CONTRACTS = load_contracts()
RULES = load_rules()
NOW = dt.datetime(2026, 11, 1, 12, 0)
ACCOUNT_HEADER = (
    "account_id;account_name;segment;plan;country;arr;currency;seats;contract_start_date;"
    "renewal_date;csm_owner;lifecycle_stage;contact_email"
)
TICKET_HEADER = "ticket_id,account_id,opened_at,first_response_at,resolved_at,priority,category,status,csat_rating"


@pytest.fixture
def landing(tmp_path) -> Path:
    folder = tmp_path / "landing"
    write(folder / "accounts.csv", ACCOUNT_HEADER + "\nA1;Alpha;SMB;S;DE;1,00;EUR;3;01.01.2026;;;;\n")
    return folder


def load(con, landing: Path, source: str, now: dt.datetime = NOW, commit: bool = True) -> SourceLoad:
    """Loads `source` (and the accounts its rows refer to, first) the way the ingestion asset does."""
    store = RawStore(con, landing.parent / "raw")
    if source != "accounts" and (landing / "accounts.csv").exists():
        accounts = store.load(CONTRACTS["accounts"], find_landing_files(landing, "accounts"), landing, RULES, now)
        store.commit(CONTRACTS["accounts"], accounts, now)
    result = store.load(CONTRACTS[source], find_landing_files(landing, source), landing, RULES, now)
    if commit and not result.errors:
        store.commit(CONTRACTS[source], result, now)
    return result


def rejected(con, source: str) -> list[tuple]:
    return con.execute(
        "select location, column_name, reason, landed_value from raw.rejected_rows where source = ? "
        "order by source_row, column_name",
        [source],
    ).fetchall()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_german_excel_export_is_read_with_decimal_commas_and_dotted_dates(con, landing):
    write(
        landing / "accounts.csv",
        "\ufeff" + ACCOUNT_HEADER + "\n"
        "A1;Müller Maschinenbau GmbH;mid market;Business;de;12.345,50;eur;25;01.02.2025;01.02.2027;"
        "Anna Becker;;a@b.example\n",
    )
    result = load(con, landing, "accounts")
    row = con.execute(
        "select account_name, segment, country, currency, arr, seats, contract_start_date from raw.accounts"
    ).fetchone()
    assert row == (
        "Müller Maschinenbau GmbH",
        "Mid-Market",
        "DE",
        "EUR",
        decimal.Decimal("12345.50"),
        25,
        dt.date(2025, 2, 1),
    )
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (1, 1, 0)


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("latin-1", "Bäckerei Süß KG"),
        ("cp1252", "Bäckerei Süß KG – „Filiale“ 5 €"),
        ("utf-16", "Bäckerei Süß KG – „Filiale“ 5 €"),
        ("utf-8-sig", "Bäckerei Süß KG – „Filiale“ 5 €"),
    ],
)
def test_exports_in_every_usual_encoding_are_read(con, landing, encoding, name):
    write(
        landing / "accounts.csv",
        ACCOUNT_HEADER + f"\nA1;{name};SMB;Starter;AT;1.200,00;EUR;3;01.01.2026;;;;\n",
        encoding=encoding,
    )
    load(con, landing, "accounts")
    assert con.execute("select account_name from raw.accounts").fetchone()[0] == name


def test_timestamps_with_offsets_are_stored_in_utc(con, landing):
    write(
        landing / "usage_events.csv",
        "event_id,account_id,user_id,occurred_at,feature\n"
        "E1,A1,U1,2026-03-01T10:00:00+01:00,reports\n"
        "E2,A1,U1,2026-03-01T10:00:00Z,reports\n"
        "E3,A1,U1,01.03.2026 10:00,reports\n",
    )
    load(con, landing, "usage_events")
    hours = [r[0] for r in con.execute("select hour(occurred_at) from raw.usage_events order by event_id").fetchall()]
    assert hours == [9, 10, 10]


@pytest.mark.parametrize(
    "arrow_type",
    [
        pa.timestamp("ns", tz="UTC"),
        pa.timestamp("us", tz="UTC"),
        pa.timestamp("ms", tz="UTC"),
        pa.timestamp("s", tz="UTC"),
        pa.timestamp("ns", tz="Europe/Berlin"),
        pa.timestamp("ns"),
        pa.timestamp("us"),
        pa.timestamp("ms"),
    ],
    ids=str,
)
def test_every_parquet_timestamp_flavour_is_read_exactly_into_utc(con, landing, arrow_type):
    instants = pd.Series(pd.to_datetime(["2026-10-31T21:30:00.123456Z", "2026-01-01T00:00:00.000000Z"], utc=True))
    values = pa.array(instants, type=pa.timestamp("ns", tz="UTC")).cast(arrow_type, safe=False)
    if arrow_type.tz is None:
        values = pa.array(instants.dt.tz_localize(None), type=pa.timestamp("ns")).cast(arrow_type, safe=False)
    table = pa.table(
        {
            "event_id": ["E1", "E2"],
            "account_id": ["A1", "A1"],
            "user_id": ["U1", "U2"],
            "occurred_at": values,
            "feature": ["api", "api"],
        }
    )
    (landing / "usage_events").mkdir()
    pq.write_table(table, landing / "usage_events" / "part.parquet")
    result = load(con, landing, "usage_events")
    assert result.rows_loaded == 2, rejected(con, "usage_events")
    got = [r[0] for r in con.execute("select occurred_at from raw.usage_events order by event_id").fetchall()]
    unit = {"s": 1_000_000, "ms": 1000}.get(arrow_type.unit, 1)
    expected = dt.datetime(2026, 10, 31, 21, 30, 0, 123456 // unit * unit)
    assert got == [expected, dt.datetime(2026, 1, 1)]


def test_int96_parquet_timestamps_are_read(con, landing):
    table = pa.table(
        {
            "event_id": ["E1"],
            "account_id": ["A1"],
            "user_id": ["U1"],
            "occurred_at": pa.array([dt.datetime(2026, 10, 31, 21, 30)], type=pa.timestamp("ns")),
            "feature": ["api"],
        }
    )
    pq.write_table(table, landing / "usage_events.parquet", use_deprecated_int96_timestamps=True)
    load(con, landing, "usage_events")
    assert con.execute("select occurred_at from raw.usage_events").fetchone()[0] == dt.datetime(2026, 10, 31, 21, 30)


def test_a_warehouse_from_before_the_parquet_raw_layer_is_loaded_into_views(con, landing):
    """Earlier versions kept raw.<source> as tables; an upgraded warehouse loads instead of failing."""
    con.execute("create schema raw")
    con.execute("create table raw.accounts as select 'OLD' as account_id")
    load(con, landing, "accounts")
    assert con.execute(
        "select table_type from information_schema.tables where table_schema = 'raw' and table_name = 'accounts'"
    ).fetchone() == ("VIEW",)
    assert con.execute("select account_id from raw.accounts").fetchall() == [("A1",)]


def test_folder_of_parts_in_mixed_formats_is_unioned_and_extra_columns_are_kept(con, landing):
    write(
        landing / "invoices" / "2025.csv",
        "invoice_id,account_id,issued_date,due_date,paid_date,amount,currency,status\n"
        "I1,A1,2025-01-01,2025-01-31,2025-01-20,100.00,EUR,paid\n",
    )
    con.execute(f"""copy (select 'I2' as invoice_id, 'A1' as account_id, date '2026-01-01' as issued_date,
        date '2026-01-31' as due_date, null::date as paid_date, 250.5 as amount, 'EUR' as currency,
        'open' as status, 'SEPA' as payment_method) to '{landing / "invoices" / "2026.parquet"}' (format parquet)""")
    result = load(con, landing, "invoices")
    assert {f.landed_file: f.rows_read for f in result.files} == {"invoices/2025.csv": 1, "invoices/2026.parquet": 1}
    assert result.files[1].extra_columns == ("payment_method",)
    rows = con.execute(
        "select invoice_id, amount, payment_method, _source_file, _source_row from raw.invoices order by invoice_id"
    ).fetchall()
    assert rows == [
        ("I1", decimal.Decimal("100.00"), None, "invoices/2025.csv", 2),
        ("I2", decimal.Decimal("250.50"), "SEPA", "invoices/2026.parquet", 1),
    ]


def test_absent_optional_source_gives_an_empty_typed_view(con, landing):
    result = load(con, landing, "milestones")
    assert result.rows_read == 0 and result.files == []
    types = dict(
        con.execute("select column_name, data_type from duckdb_columns() where table_name = 'milestones'").fetchall()
    )
    assert types["target_date"] == "DATE"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "T1,A1,31.02.2026 10:00,,,high,bug,open,",
            (
                "line 2",
                "opened_at",
                "cannot be read as a timestamp (use ISO 8601, e.g. 2026-10-31T14:05:00Z)",
                "31.02.2026 10:00",
            ),
        ),
        (
            "T1,A1,2026-01-01T10:00:00Z,,,critical,bug,open,",
            ("line 2", "priority", "not one of the allowed values low, normal, high, urgent", "critical"),
        ),
        ("T1,,2026-01-01T10:00:00Z,,,high,bug,open,", ("line 2", "account_id", "required value is missing", None)),
        ("T1,A1,2026-01-01T10:00:00Z,,,high,bug,open,7", ("line 2", "csat_rating", "above the maximum 5", "7")),
        (
            "T1,A1,2026-01-01T10:00:00Z,2025-12-31T10:00:00Z,,high,bug,open,",
            ("line 2", "first_response_at", "first response before the ticket was opened", "2025-12-31 10:00:00"),
        ),
        (
            "T1,A1,2031-01-01T10:00:00Z,,,high,bug,open,",
            ("line 2", "opened_at", "in the future (after the load at 2026-11-01 12:00 UTC)", "2031-01-01T10:00:00Z"),
        ),
        (
            "T1,A9,2026-01-01T10:00:00Z,,,high,bug,open,",
            ("line 2", "account_id", "unknown account: no account A9 in the accounts export", "A9"),
        ),
        (
            "T1,A1,2026-01-01T10:00:00Z,,,Hoch,bug,open,",
            ("line 2", "priority", "not one of the allowed values low, normal, high, urgent", "Hoch"),
        ),
    ],
)
def test_a_bad_row_is_set_aside_with_file_line_column_and_reason_and_the_rest_loads(con, landing, line, expected):
    write(
        landing / "support_tickets.csv",
        TICKET_HEADER + "\nT0,A1,2026-01-01T09:00:00Z,,,low,bug,open,\n" + line.replace("T1,", "T1,", 1) + "\n",
    )
    result = load(con, landing, "support_tickets")
    location, column, reason, value = expected
    assert rejected(con, "support_tickets") == [("line 3", column, reason, value)]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert con.execute("select ticket_id from raw.support_tickets").fetchall() == [("T0",)]


def test_each_reason_carries_the_short_name_of_its_rule(con, landing):
    """The summary and marts.landed_file_loads count rejections by rule: a code outside the allowed ones is
    readable, just not allowed."""
    write(
        landing / "support_tickets.csv",
        TICKET_HEADER + "\nT1,A1,2026-01-01T09:00:00Z,,,Hoch,bug,open,\nT2,A1,gestern,,,low,bug,open,\n",
    )
    load(con, landing, "support_tickets")
    rules = con.execute("select column_name, rule from raw.rejected_rows order by source_row").fetchall()
    assert rules == [("priority", "allowed values"), ("opened_at", "unreadable")]


def test_a_documented_value_mapping_turns_an_export_code_into_the_contract_value(con, landing):
    write(landing / "support_tickets.csv", TICKET_HEADER + "\nT0,A1,2026-01-01T09:00:00Z,,,low,bug,Resolved,\n")
    load(con, landing, "support_tickets")
    assert con.execute("select status from raw.support_tickets").fetchone()[0] == "solved"


def test_line_numbers_are_physical_lines_after_quoted_line_breaks(con, landing):
    write(
        landing / "survey_responses.csv",
        "response_id,account_id,respondent_email,responded_at,survey_type,score,comment\n"
        'R1,A1,,2026-01-01,nps,9,"Great,\nreally great\nproduct"\n'
        "R2,A1,,2026-01-02,nps,11,\n",
    )
    load(con, landing, "survey_responses")
    assert rejected(con, "survey_responses") == [("line 5", "score", "above the maximum 10", "11")]
    comment = con.execute("select comment from raw.survey_responses").fetchone()[0]
    assert comment == "Great,\nreally great\nproduct"


def test_a_row_with_the_wrong_number_of_fields_is_set_aside(con, landing):
    write(
        landing / "churn_events.csv", "account_id,churned_at,churn_type,reason,arr_lost\nA1,2026-01-31,cancellation\n"
    )
    result = load(con, landing, "churn_events")
    assert result.rows_rejected == 1
    assert rejected(con, "churn_events") == [("line 2", "(row)", "3 fields where the header has 5", None)]


@pytest.mark.parametrize(
    ("values", "loaded", "reason"),
    [
        (["649,12", "1.234,56"], [decimal.Decimal("649.12"), decimal.Decimal("1234.56")], None),
        (["649.12", "1,234.56"], [decimal.Decimal("649.12"), decimal.Decimal("1234.56")], None),
        (["1.234", "649,12"], [decimal.Decimal("1234"), decimal.Decimal("649.12")], None),
        (["1.234", "1,234"], [], "not a number, or ambiguous"),
        (["649,12", "12.5"], [decimal.Decimal("649.12")], "not a number in this column's format (decimal comma"),
    ],
)
def test_decimal_separators_are_decided_per_column_from_the_values(con, landing, values, loaded, reason):
    rows = "\n".join(f'I{i},A1,2026-01-01,2026-01-31,,"{v}",EUR,open' for i, v in enumerate(values))
    write(
        landing / "invoices.csv",
        "invoice_id,account_id,issued_date,due_date,paid_date,amount,currency,status\n" + rows + "\n",
    )
    load(con, landing, "invoices")
    assert [r[0] for r in con.execute("select amount from raw.invoices order by invoice_id").fetchall()] == loaded
    reasons = [r[2] for r in rejected(con, "invoices")]
    assert (reasons == []) if reason is None else all(r.startswith(reason) for r in reasons) and reasons


@pytest.mark.parametrize(
    ("values", "loaded"),
    [
        (["649.12", "1.234", "0.125"], [decimal.Decimal("649.12")]),
        (["649,12", "1,234", "1.234,567"], [decimal.Decimal("649.12")]),
        (["649.12", "1.230"], [decimal.Decimal("649.12"), decimal.Decimal("1.23")]),
    ],
)
def test_an_amount_with_more_than_two_decimals_is_set_aside_not_rounded(con, landing, values, loaded):
    """Rounding '1.234' to 1.23 would load a value nobody wrote; in a column of decimal points it may well be
    a German thousand. A trailing zero changes nothing and loads."""
    rows = "\n".join(f'I{i},A1,2026-01-01,2026-01-31,,"{v}",EUR,open' for i, v in enumerate(values))
    write(
        landing / "invoices.csv",
        "invoice_id,account_id,issued_date,due_date,paid_date,amount,currency,status\n" + rows + "\n",
    )
    load(con, landing, "invoices")
    assert [r[0] for r in con.execute("select amount from raw.invoices order by invoice_id").fetchall()] == loaded
    reasons = {(column, reason) for _, column, reason, _ in rejected(con, "invoices")}
    if len(loaded) < len(values):
        assert reasons == {
            ("amount", "more than 2 decimal places: amounts are kept to the cent, rounding would change it")
        }


def test_negative_amounts_and_payments_before_the_invoice_are_set_aside(con, landing):
    write(
        landing / "invoices.csv",
        "invoice_id,account_id,issued_date,due_date,paid_date,amount,currency,status\n"
        "I1,A1,2026-01-10,2026-01-31,2026-01-05,100.00,EUR,paid\n"
        "I2,A1,2026-01-10,2026-01-31,,-100.00,EUR,open\n"
        "I3,A1,2026-01-10,2026-01-01,,100.00,EUR,open\n",
    )
    load(con, landing, "invoices")
    assert [(r[0], r[1], r[2]) for r in rejected(con, "invoices")] == [
        ("line 2", "paid_date", "paid before the invoice was issued"),
        ("line 3", "amount", "below the minimum 0"),
        ("line 4", "due_date", "due before the invoice was issued"),
    ]


def test_conflicting_duplicates_in_one_delivery_are_set_aside_naming_each_other(con, landing):
    write(
        landing / "churn_events.csv",
        "account_id,churned_at,churn_type,reason,arr_lost\n"
        "A1,2026-01-31,cancellation,budget,100\n"
        "A1,2026-01-31,cancellation,budget,100\n"
        "A1,2026-02-28,cancellation,budget,100\n"
        "A1,2026-02-28,cancellation,price,200\n",
    )
    result = load(con, landing, "churn_events")
    assert (result.rows_loaded, result.rows_rejected) == (2, 2)
    reasons = {r[2] for r in rejected(con, "churn_events")}
    assert reasons == {
        "the key A1/2026-02-28/cancellation appears with different values on lines 4, 5; none of them is loaded"
    }


def test_rows_of_unknown_accounts_come_back_when_the_account_appears(con, landing):
    write(
        landing / "churn_events.csv", "account_id,churned_at,churn_type,reason,arr_lost\nA2,2026-01-31,cancellation,,\n"
    )
    assert load(con, landing, "churn_events").rows_rejected == 1
    write(
        landing / "accounts.csv",
        ACCOUNT_HEADER + "\nA1;Alpha;SMB;S;DE;1,00;EUR;3;01.01.2026;;;;\nA2;Beta;SMB;S;DE;1,00;EUR;3;01.01.2026;;;;\n",
    )
    result = load(con, landing, "churn_events")
    assert (result.rows_rejected, result.rows_loaded, len(result.changed)) == (0, 1, 0)
    assert con.execute("select account_id from raw.churn_events").fetchall() == [("A2",)]
    write(landing / "accounts.csv", ACCOUNT_HEADER + "\nA1;Alpha;SMB;S;DE;1,00;EUR;3;01.01.2026;;;;\n")
    assert load(con, landing, "churn_events").rows_rejected == 1


def test_unchanged_files_are_not_read_again_and_changed_ones_replace_their_own_rows(con, landing):
    january = write(
        landing / "usage_events" / "2026-01.csv",
        "event_id,account_id,user_id,occurred_at,feature\nE1,A1,U1,2026-01-05,api\n",
    )
    write(
        landing / "usage_events" / "2026-02.csv",
        "event_id,account_id,user_id,occurred_at,feature\nE2,A1,U1,2026-02-05,api\n",
    )
    assert len(load(con, landing, "usage_events").changed) == 2
    assert load(con, landing, "usage_events").changed == []
    os.utime(january, ns=(1, 1))  # touched, same content: recognised by its hash
    assert load(con, landing, "usage_events").changed == []
    write(
        january, "event_id,account_id,user_id,occurred_at,feature\nE1,A1,U1,2026-01-05,api\nE3,A1,U2,2026-01-06,api\n"
    )
    result = load(con, landing, "usage_events")
    assert [f.landed_file for f in result.changed] == ["usage_events/2026-01.csv"]
    assert con.execute("select count(*) from raw.usage_events").fetchone()[0] == 3
    (landing / "usage_events" / "2026-02.csv").unlink()
    load(con, landing, "usage_events")
    assert [r[0] for r in con.execute("select event_id from raw.usage_events order by 1").fetchall()] == ["E1", "E3"]
    changes = con.execute(
        "select landed_file, change, first_event_date, last_event_date from raw.landed_file_changes "
        "where source = 'usage_events'"
    ).fetchall()
    assert len(changes) == 5, "two files loaded, one replaced by its new version, one removed"
    assert {
        ("usage_events/2026-01.csv", "loaded", dt.date(2026, 1, 5), dt.date(2026, 1, 6)),
        ("usage_events/2026-01.csv", "replaced", dt.date(2026, 1, 5), dt.date(2026, 1, 5)),
        ("usage_events/2026-02.csv", "removed", dt.date(2026, 2, 5), dt.date(2026, 2, 5)),
    } <= set(changes)
    raw_files = sorted(p.name for p in (landing.parent / "raw" / "usage_events").glob("*.parquet"))
    assert len(raw_files) == 1, "older versions and removed files leave no Parquet behind"


def test_a_file_that_cannot_be_read_keeps_the_rows_loaded_before(con, landing):
    write(landing / "usage_events.csv", "event_id,account_id,user_id,occurred_at,feature\nE1,A1,U1,2026-01-05,api\n")
    load(con, landing, "usage_events")
    write(landing / "usage_events.csv", "event_id,account_id,occurred_at\nE1,A1,2026-01-05\n")
    result = load(con, landing, "usage_events")
    assert result.errors == [
        "usage_events.csv: required column(s) missing: user_id, feature (found: event_id, account_id, occurred_at)"
    ]
    assert con.execute("select count(*) from raw.usage_events").fetchone()[0] == 1


def test_events_in_the_future_are_judged_again_once_their_day_has_come(con, landing):
    write(landing / "usage_events.csv", "event_id,account_id,user_id,occurred_at,feature\nE1,A1,U1,2026-11-05,api\n")
    assert load(con, landing, "usage_events").rows_rejected == 1
    assert load(con, landing, "usage_events", now=NOW + dt.timedelta(hours=1)).changed == []
    later = load(con, landing, "usage_events", now=dt.datetime(2026, 11, 6))
    assert (len(later.changed), later.rows_rejected) == (1, 0)


def test_unknown_files_in_the_landing_directory_are_named(landing):
    write(landing / "usage_events" / "2026-01.csv", "x\n")
    write(landing / "tickets_export.csv", "x\n")
    write(landing / "notes.txt", "x\n")
    assert stray_landing_files(landing, list(CONTRACTS)) == ["notes.txt", "tickets_export.csv"]


def test_the_landing_check_warns_naming_the_stray_files_and_passes_without_them(landing):
    write(landing / "usage_events" / "2026-01.csv", "x\n")
    [recognised] = landing_directory_check(landing=LandingResource(directory=str(landing)))
    assert recognised.passed and recognised.description == "every file in the landing directory belongs to a source"
    write(landing / "tickets_export.csv", "x\n")
    write(landing / "usage_events" / "readme.txt", "x\n")
    [stray] = landing_directory_check(landing=LandingResource(directory=str(landing)))
    assert not stray.passed and stray.severity == dg.AssetCheckSeverity.WARN
    assert stray.asset_key == dg.AssetKey(["raw", "accounts"])
    assert stray.description == (
        "2 files belong to no source and are not loaded: tickets_export.csv, usage_events/readme.txt"
    )
    assert stray.metadata["stray_files"].data == ["tickets_export.csv", "usage_events/readme.txt"]


def test_missing_required_column_names_the_file_and_column(con, landing):
    write(landing / "survey_responses.csv", "response_id,account_id,responded_at,survey_type\nR1,A1,2026-01-01,nps\n")
    result = load(con, landing, "survey_responses")
    assert result.errors == [
        "survey_responses.csv: required column(s) missing: score "
        "(found: response_id, account_id, responded_at, survey_type)"
    ]


def test_country_must_be_an_iso_code(con, landing):
    write(landing / "accounts.csv", ACCOUNT_HEADER + "\nA1;X;SMB;S;Germany;1,00;EUR;3;01.01.2026;;;;\n")
    load(con, landing, "accounts")
    assert rejected(con, "accounts") == [("line 2", "country", "does not match the pattern ^[A-Z]{2}$", "Germany")]
