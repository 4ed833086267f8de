"""The landing loader: formats real exports come in, and clear errors for rows that break the contract."""

import datetime as dt
import decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.landing import LandingError, find_landing_files, load_source

CONTRACTS = load_contracts()
ACCOUNT_HEADER = (
    "account_id;account_name;segment;plan;country;arr;currency;seats;contract_start_date;"
    "renewal_date;csm_owner;lifecycle_stage;contact_email"
)


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def load(con, landing: Path, source: str):
    return load_source(con, CONTRACTS[source], find_landing_files(landing, source), landing)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_german_excel_export_is_read_with_decimal_commas_and_dotted_dates(con, tmp_path):
    write(
        tmp_path / "accounts.csv",
        "\ufeff" + ACCOUNT_HEADER + "\n"
        "A1;Müller Maschinenbau GmbH;mid market;Business;DE;12.345,50;EUR;25;01.02.2025;01.02.2027;"
        "Anna Becker;;a@b.example\n",
        encoding="utf-8",
    )
    report = load(con, tmp_path, "accounts")
    row = con.execute("select account_name, segment, arr, seats, contract_start_date from raw.accounts").fetchone()
    assert row == ("Müller Maschinenbau GmbH", "Mid-Market", decimal.Decimal("12345.50"), 25, dt.date(2025, 2, 1))
    assert report.row_count == 1 and report.files == ["accounts.csv"]


def test_latin1_export_is_read(con, tmp_path):
    write(
        tmp_path / "accounts.csv",
        ACCOUNT_HEADER + "\nA1;Bäckerei Süß KG;SMB;Starter;AT;1.200,00;EUR;3;01.01.2026;;;;\n",
        encoding="latin-1",
    )
    load(con, tmp_path, "accounts")
    assert con.execute("select account_name from raw.accounts").fetchone()[0] == "Bäckerei Süß KG"


def test_timestamps_with_offsets_are_stored_in_utc(con, tmp_path):
    write(
        tmp_path / "usage_events.csv",
        "event_id,account_id,user_id,occurred_at,feature\n"
        "E1,A1,U1,2026-03-01T10:00:00+01:00,reports\n"
        "E2,A1,U1,2026-03-01T10:00:00Z,reports\n"
        "E3,A1,U1,01.03.2026 10:00,reports\n",
    )
    load(con, tmp_path, "usage_events")
    hours = [r[0] for r in con.execute("select hour(occurred_at) from raw.usage_events order by event_id").fetchall()]
    assert hours == [9, 10, 10]


def test_folder_of_parts_in_mixed_formats_is_unioned_and_extra_columns_are_kept(con, tmp_path):
    write(
        tmp_path / "invoices" / "2025.csv",
        "invoice_id,account_id,issued_date,due_date,paid_date,amount,currency,status\n"
        "I1,A1,2025-01-01,2025-01-31,2025-01-20,100.00,EUR,paid\n",
    )
    con.execute(f"""copy (select 'I2' as invoice_id, 'A1' as account_id, date '2026-01-01' as issued_date,
        date '2026-01-31' as due_date, null::date as paid_date, 250.5 as amount, 'EUR' as currency,
        'open' as status, 'SEPA' as payment_method) to '{tmp_path / "invoices" / "2026.parquet"}' (format parquet)""")
    report = load(con, tmp_path, "invoices")
    assert report.rows_per_file == {"invoices/2025.csv": 1, "invoices/2026.parquet": 1}
    assert report.extra_columns == ["payment_method"]
    rows = con.execute(
        "select invoice_id, amount, payment_method, _source_file, _source_row from raw.invoices order by invoice_id"
    ).fetchall()
    assert rows == [
        ("I1", decimal.Decimal("100.00"), None, "invoices/2025.csv", 2),
        ("I2", decimal.Decimal("250.50"), "SEPA", "invoices/2026.parquet", 1),
    ]


def test_loading_twice_replaces_instead_of_duplicating(con, tmp_path):
    write(
        tmp_path / "churn_events.csv",
        "account_id,churned_at,churn_type,reason,arr_lost\nA1,2026-01-31,cancellation,,100\n",
    )
    load(con, tmp_path, "churn_events")
    load(con, tmp_path, "churn_events")
    assert con.execute("select count(*) from raw.churn_events").fetchone()[0] == 1


def test_absent_optional_source_gives_an_empty_typed_table(con, tmp_path):
    report = load(con, tmp_path, "milestones")
    assert report.row_count == 0 and report.files == []
    types = dict(
        con.execute("select column_name, data_type from duckdb_columns() where table_name = 'milestones'").fetchall()
    )
    assert types["target_date"] == "DATE"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "T1,A1,31.02.2026 10:00,,,high,bug,open,",
            "line 2, column opened_at: cannot be read as timestamp (value '31.02.2026 10:00')",
        ),
        (
            "T1,A1,2026-01-01T10:00:00Z,,,critical,bug,open,",
            "line 2, column priority: not one of the allowed values low, normal, high, urgent (value 'critical')",
        ),
        ("T1,,2026-01-01T10:00:00Z,,,high,bug,open,", "line 2, column account_id: required value is missing"),
        ("T1,A1,2026-01-01T10:00:00Z,,,high,bug,open,7", "line 2, column csat_rating: above the maximum 5"),
        ("T1,A1,2026-01-01T10:00:00Z,,,high,bug,open,4.5", "line 2, column csat_rating: cannot be read as integer"),
    ],
)
def test_bad_values_fail_with_file_line_column_and_reason(con, tmp_path, line, expected):
    write(
        tmp_path / "support_tickets.csv",
        "ticket_id,account_id,opened_at,first_response_at,resolved_at,priority,category,status,csat_rating\n"
        + line
        + "\n",
    )
    with pytest.raises(LandingError) as error:
        load(con, tmp_path, "support_tickets")
    assert f"support_tickets.csv, {expected}" in str(error.value)


def test_a_bad_row_among_good_ones_is_reported_and_nothing_is_loaded(con, tmp_path):
    good = "\n".join(f"E{i},A1,U1,2026-03-01T10:00:00Z,reports" for i in range(50))
    write(
        tmp_path / "usage_events.csv",
        "event_id,account_id,user_id,occurred_at,feature\n" + good + "\nE99,A1,U1,yesterday,reports\n",
    )
    with pytest.raises(LandingError, match=r"(?s)1 value\(s\) break.*line 52, column occurred_at"):
        load(con, tmp_path, "usage_events")
    assert con.execute("select count(*) from duckdb_tables() where table_name = 'usage_events'").fetchone()[0] == 0


def test_missing_required_column_names_the_file_and_column(con, tmp_path):
    write(tmp_path / "survey_responses.csv", "response_id,account_id,responded_at,survey_type\nR1,A1,2026-01-01,nps\n")
    with pytest.raises(LandingError, match=r"survey_responses.csv: required column\(s\) missing: score"):
        load(con, tmp_path, "survey_responses")


def test_country_must_be_an_iso_code(con, tmp_path):
    write(tmp_path / "accounts.csv", ACCOUNT_HEADER + "\nA1;X;SMB;S;Germany;1,00;EUR;3;01.01.2026;;;;\n")
    with pytest.raises(LandingError, match=r"line 2, column country: does not match the pattern"):
        load(con, tmp_path, "accounts")
