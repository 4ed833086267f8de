"""A hostile landing directory refreshes successfully, end to end through Dagster: every defect real exports
have is set aside with its reason, the rest is scored and published, and nothing loads silently wrong.

The landing starts from a small simulated portfolio and gets, side by side: German and English CSV dialects,
a usage part sent twice, identical and conflicting duplicates, codes with typos ('KMU', 'Hoch'), an NPS
answer of 11, a churn row and a ticket of unknown accounts, '649,12' in a comma-separated file whose other
amounts show a decimal comma, a negative amount, an invoice paid before it was issued, a ticket resolved
before it was opened, usage events dated 2031, the currency 'eur', a Parquet part written by pandas with
timestamp[ns, tz=UTC] columns, and a file that belongs to no source. Every source stays within the share of
rows seeds/source_load_limits.csv allows it to set aside (checked below), so the refresh must succeed."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.sample_data import simulate, write_landing
from tests.conftest import END_DATE, run_refresh

# 80 accounts: with fewer the simulated churn export has under 20 rows, and the one churn row of an unknown
# account would be more than the 5% of churn_events that may be set aside.
ACCOUNTS = 80
DAYS = 200
REJECTED_ACCOUNT = "ACC-09001"  # its segment 'KMU' is a typo: the account and its ticket are set aside
UNKNOWN_ACCOUNT = "ACC-99999"
STRAY_FILE = "notes.txt"
# Columns that record when or by which run something happened; everything else must be reproduced exactly.
RUN_COLUMNS = {"run_id", "scored_at", "loaded_at", "published_at", "recorded_at", "registered_at"}


@dataclass(frozen=True)
class Rejection:
    source: str
    landed_file: str
    source_row: int
    column_name: str
    rule: str


@dataclass(frozen=True)
class HostileLanding:
    path: Path
    rejections: frozenset[Rejection]
    account_ids: frozenset[str]
    decimal_comma_invoice: str
    lower_case_currency_invoice: str
    repeated_ticket: str
    invoices: pd.DataFrame  # as exported, over the three parts
    nanosecond_part: pd.DataFrame


def record_lines(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> list[tuple[int, dict]]:
    """Each record of a CSV file with the physical line it starts on."""
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        records, start = [], 2
        for row in reader:
            records.append((start, row))
            start = reader.line_num + 1
    return records


def line_of(path: Path, column: str, value: str, delimiter: str = ",", encoding: str = "utf-8") -> list[int]:
    return [line for line, row in record_lines(path, delimiter, encoding) if row[column] == value]


def _english_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format="%.2f")


def _german_csv(frame: pd.DataFrame, path: Path) -> None:
    """As German Excel writes it: semicolons, decimal commas with thousands points, dd.mm.yyyy, Windows-1252."""
    out = frame.copy()
    for column in ("issued_date", "due_date", "paid_date"):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%d.%m.%Y")
    out["amount"] = out["amount"].map(lambda v: f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", "."))
    out.to_csv(path, sep=";", index=False, encoding="cp1252")


def _decimal_comma_csv(frame: pd.DataFrame, path: Path) -> None:
    """Comma-separated, yet amounts with a decimal comma (quoted), as a hand-made correction file is."""
    out = frame.copy()
    out["amount"] = out["amount"].map(lambda v: f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", "."))
    out.to_csv(path, index=False)


def build_hostile_landing(landing: Path) -> HostileLanding:
    simulation = simulate(ACCOUNTS, DAYS, seed=7, end_date=END_DATE)
    frames = simulation.frames
    accounts = frames["accounts"]
    typo = accounts.iloc[[0]].assign(account_id=REJECTED_ACCOUNT, account_name="Tippfehler GmbH", segment="KMU")
    frames["accounts"] = pd.concat([accounts, typo], ignore_index=True)

    tickets = frames["support_tickets"].copy()
    resolved = tickets.index[tickets["resolved_at"].notna()]
    hoch, early, repeated, conflicting, orphan = 3, resolved[resolved > 100][0], 50, resolved[resolved > 200][0], 300
    tickets.loc[hoch, "priority"] = "Hoch"
    tickets.loc[early, "resolved_at"] = tickets.loc[early, "opened_at"] - pd.Timedelta(hours=1)
    twin = tickets.loc[[conflicting]].assign(
        priority="urgent" if tickets.loc[conflicting, "priority"] != "urgent" else "low"
    )
    unknown_ticket = tickets.loc[[orphan]].assign(ticket_id="TCK-9000001", account_id=REJECTED_ACCOUNT)
    frames["support_tickets"] = pd.concat([tickets, tickets.loc[[repeated]], twin, unknown_ticket], ignore_index=True)

    surveys = frames["survey_responses"].copy()
    eleven = surveys.index[surveys["survey_type"] == "nps"][5]
    surveys.loc[eleven, "score"] = 11
    frames["survey_responses"] = surveys

    churn = frames["churn_events"]
    orphan_churn = pd.DataFrame(
        [
            {
                "account_id": UNKNOWN_ACCOUNT,
                "churned_at": dt.date(2026, 9, 30),
                "churn_type": "cancellation",
                "reason": "budget cuts",
                "arr_lost": 1000.0,
            }
        ]
    )
    frames["churn_events"] = pd.concat([churn, orphan_churn], ignore_index=True)
    write_landing(simulation, landing)

    # Invoices in three parts: English, German, and comma-separated with decimal commas.
    invoices = frames["invoices"].sort_values(["issued_date", "invoice_id"], ignore_index=True)
    shutil.rmtree(landing / "invoices")
    (landing / "invoices").mkdir()
    english, german, corrections = (invoices.iloc[i::3].copy() for i in range(3))
    negative = english.index[0]
    english.loc[negative, "amount"] = -120.0
    paid_early = german.index[german["paid_date"].notna()][0]
    german.loc[paid_early, "paid_date"] = german.loc[paid_early, "issued_date"] - dt.timedelta(days=5)
    decimal_comma, lower_case = corrections.index[0], corrections.index[1]
    corrections.loc[decimal_comma, "amount"] = 649.12
    corrections.loc[lower_case, "currency"] = "eur"
    _english_csv(english, landing / "invoices" / "2026-a_english.csv")
    _german_csv(german, landing / "invoices" / "2026-b_german.csv")
    _decimal_comma_csv(corrections, landing / "invoices" / "2026-c_corrections.csv")

    # Usage: the September part sent again, and a late part from pandas with nanosecond zoned timestamps
    # holding three events dated 2031.
    usage_dir = landing / "usage_events"
    shutil.copy(usage_dir / "usage_events_2026-09.parquet", usage_dir / "usage_events_2026-09_resent.parquet")
    usage = frames["usage_events"]
    last_day = usage[usage["occurred_at"].dt.date == END_DATE].head(20)
    future = usage.head(3).assign(occurred_at=pd.Timestamp("2031-05-01T09:30:00", tz="UTC"))
    late = pd.concat([last_day, future], ignore_index=True)
    late["event_id"] = [f"EVT-LATE-{i:04d}" for i in range(len(late))]
    late["occurred_at"] = late["occurred_at"].astype("datetime64[ns, UTC]")
    late.to_parquet(usage_dir / "usage_events_late.parquet", index=False)

    (landing / STRAY_FILE).write_text("exported by hand, do not load\n")

    rejections = {
        Rejection("accounts", "accounts.csv", line, "segment", "allowed values")
        for line in line_of(landing / "accounts.csv", "account_id", REJECTED_ACCOUNT, ";", "utf-8-sig")
    }
    ticket_file = landing / "support_tickets.csv"
    for ticket_id, column, rule in (
        (tickets.loc[hoch, "ticket_id"], "priority", "allowed values"),
        (tickets.loc[early, "ticket_id"], "resolved_at", "row rule"),
        (tickets.loc[conflicting, "ticket_id"], "ticket_id", "conflicting duplicate"),
        ("TCK-9000001", "account_id", "unknown account"),
    ):
        rejections |= {
            Rejection("support_tickets", "support_tickets.csv", line, column, rule)
            for line in line_of(ticket_file, "ticket_id", ticket_id)
        }
    rejections |= {
        Rejection("survey_responses", "survey_responses.csv", line, "score", "maximum")
        for line in line_of(landing / "survey_responses.csv", "response_id", surveys.loc[eleven, "response_id"])
    }
    rejections |= {
        Rejection("churn_events", "churn_events.csv", line, "account_id", "unknown account")
        for line in line_of(landing / "churn_events.csv", "account_id", UNKNOWN_ACCOUNT)
    }
    rejections |= {
        Rejection("invoices", "invoices/2026-a_english.csv", line, "amount", "minimum")
        for line in line_of(
            landing / "invoices" / "2026-a_english.csv", "invoice_id", english.loc[negative, "invoice_id"]
        )
    }
    rejections |= {
        Rejection("invoices", "invoices/2026-b_german.csv", line, "paid_date", "row rule")
        for line in line_of(
            landing / "invoices" / "2026-b_german.csv",
            "invoice_id",
            german.loc[paid_early, "invoice_id"],
            ";",
            "cp1252",
        )
    }
    rejections |= {
        Rejection("usage_events", "usage_events/usage_events_late.parquet", row, "occurred_at", "future")
        for row in range(len(last_day) + 1, len(late) + 1)
    }
    assert len({hoch, early, repeated, conflicting, orphan}) == 5, "each defect on a ticket of its own"
    return HostileLanding(
        path=landing,
        rejections=frozenset(rejections),
        account_ids=frozenset(accounts["account_id"]),
        decimal_comma_invoice=corrections.loc[decimal_comma, "invoice_id"],
        lower_case_currency_invoice=corrections.loc[lower_case, "invoice_id"],
        repeated_ticket=tickets.loc[repeated, "ticket_id"],
        invoices=pd.concat([english, german, corrections]),
        nanosecond_part=late,
    )


@dataclass(frozen=True)
class HostileRefresh:
    landing: HostileLanding
    warehouse: Path
    first: dg.ExecuteInProcessResult
    first_serving: Path
    first_rejected: list[tuple]
    second: dg.ExecuteInProcessResult


def serving_file(warehouse: Path) -> Path:
    return warehouse.parent / "serving" / "healthscore.duckdb"


def rejected_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from raw.rejected_rows order by all").fetchall()


@pytest.fixture(scope="module")
def hostile(dbt_manifest, tmp_path_factory: pytest.TempPathFactory) -> HostileRefresh:
    """The hostile landing refreshed twice into the same warehouse, the first publication kept aside."""
    landing = build_hostile_landing(tmp_path_factory.mktemp("hostile") / "landing")
    warehouse = tmp_path_factory.mktemp("hostile_warehouse") / "healthscore.duckdb"
    first = run_refresh(warehouse, landing.path)
    first_serving = warehouse.parent / "first_publication.duckdb"
    if first.success:
        shutil.copy(serving_file(warehouse), first_serving)
    first_rejected = rejected_rows(warehouse)
    second = run_refresh(warehouse, landing.path)
    return HostileRefresh(landing, warehouse, first, first_serving, first_rejected, second)


@pytest.fixture(scope="module")
def warehouse(hostile):
    assert hostile.first.success and hostile.second.success
    with duckdb.connect(str(hostile.warehouse), read_only=True) as con:
        yield con


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            failure = event.step_failure_data
            reason = failure.user_failure_data.description if failure.user_failure_data else failure.error.message
            messages.append(f"{event.step_key}: {reason}")
    return messages


def test_the_refresh_succeeds_and_publishes(hostile):
    assert hostile.first.success, failures(hostile.first)
    assert hostile.second.success, failures(hostile.second)
    with duckdb.connect(str(serving_file(hostile.warehouse)), read_only=True) as serving:
        assert serving.execute("select run_id from marts.publication").fetchone()[0] == hostile.second.run_id


def test_every_source_stays_within_its_share_of_rows_set_aside(warehouse):
    rules = load_rules()
    shares = warehouse.execute(
        "select source_name, sum(rows_rejected) / sum(rows_read) from marts.landed_file_loads group by 1"
    ).fetchall()
    for source, share in shares:
        assert share <= rules.max_rejected_share(source), (source, share)


def test_every_valid_account_is_scored_up_to_the_last_real_day_not_2031(warehouse, hostile):
    accounts = dict(
        warehouse.execute(
            "select account_id, health_score is not null or is_churned from marts.account_health_scores"
        ).fetchall()
    )
    assert set(accounts) == hostile.landing.account_ids, "the account with a typo in its segment is set aside"
    assert all(accounts.values()), [a for a, scored in accounts.items() if not scored]
    assert warehouse.execute("select max(score_date) from marts.account_health_history").fetchone()[0] == END_DATE


def test_every_injected_defect_and_nothing_else_is_set_aside_naming_its_column(warehouse, hostile):
    found = {
        Rejection(*row)
        for row in warehouse.execute(
            "select source, landed_file, source_row, column_name, rule from raw.rejected_rows"
        ).fetchall()
    }
    assert found == hostile.landing.rejections
    with duckdb.connect(str(serving_file(hostile.warehouse)), read_only=True) as serving:
        published = {
            Rejection(*row)
            for row in serving.execute(
                "select source_name, landed_file, source_row, column_name, rule from marts.rejected_rows"
            ).fetchall()
        }
    assert published == hostile.landing.rejections


def test_rows_read_equal_rows_loaded_plus_rows_set_aside_for_every_file(warehouse, hostile):
    files = warehouse.execute(
        "select source_name, landed_file, rows_read, rows_loaded, rows_rejected from marts.landed_file_loads"
    ).fetchall()
    landed = {
        str(path.relative_to(hostile.landing.path))
        for path in hostile.landing.path.rglob("*")
        if path.is_file() and path.name != STRAY_FILE
    }
    assert {landed_file for _, landed_file, *_ in files} == landed
    expected_rejected: dict[str, int] = {}
    for rejection in hostile.landing.rejections:
        expected_rejected[rejection.landed_file] = expected_rejected.get(rejection.landed_file, 0) + 1
    for source, landed_file, read, loaded, rejected in files:
        assert read == loaded + rejected, (source, landed_file)
        assert rejected == expected_rejected.get(landed_file, 0), landed_file
    for source, loaded in warehouse.execute(
        "select source_name, sum(rows_loaded) from marts.landed_file_loads group by 1"
    ).fetchall():
        assert warehouse.execute(f"select count(*) from raw.{source}").fetchone()[0] == loaded, source


def test_decimal_comma_and_lower_case_currency_load_as_meant(warehouse, hostile):
    amount, currency = warehouse.execute(
        "select amount, currency from raw.invoices where invoice_id = ?", [hostile.landing.decimal_comma_invoice]
    ).fetchone()
    assert amount == Decimal("649.12") and currency == "EUR"
    assert warehouse.execute(
        "select currency from raw.invoices where invoice_id = ?", [hostile.landing.lower_case_currency_invoice]
    ).fetchone() == ("EUR",)
    assert warehouse.execute(
        "select count(distinct currency) from raw.invoices where currency <> upper(currency)"
    ).fetchone() == (0,)


def test_invoices_in_three_dialects_load_with_exactly_the_values_exported(warehouse, hostile):
    """English, German (semicolons, decimal commas, dd.mm.yyyy, Windows-1252) and comma-separated with
    decimal commas: every invoice not set aside has the values the billing system had."""

    def exported(value):
        return None if pd.isna(value) else value

    expected = {
        row.invoice_id: (
            row.issued_date,
            row.due_date,
            exported(row.paid_date),
            Decimal(f"{row.amount:.2f}"),
            row.currency.upper(),
            row.status,
        )
        for row in hostile.landing.invoices.itertuples()
        if row.amount >= 0 and not (exported(row.paid_date) and row.paid_date < row.issued_date)
    }
    loaded = {
        invoice_id: tuple(values)
        for invoice_id, *values in warehouse.execute(
            "select invoice_id, issued_date, due_date, paid_date, amount, currency, status from raw.invoices"
        ).fetchall()
    }
    assert loaded == expected


def test_identical_repeats_load_and_staging_keeps_one(warehouse, hostile):
    ticket = hostile.landing.repeated_ticket
    assert warehouse.execute("select count(*) from raw.support_tickets where ticket_id = ?", [ticket]).fetchone() == (
        2,
    )
    assert warehouse.execute(
        "select count(*) from staging.stg_helpdesk__support_tickets where ticket_id = ?", [ticket]
    ).fetchone() == (1,)


def test_a_resent_usage_part_loads_and_staging_keeps_each_event_once(warehouse):
    resent = warehouse.execute(
        "select rows_read, rows_rejected from marts.landed_file_loads "
        "where landed_file = 'usage_events/usage_events_2026-09_resent.parquet'"
    ).fetchone()
    assert resent[0] > 0 and resent[1] == 0
    events, distinct = warehouse.execute(
        "select count(*), count(distinct event_id) from staging.stg_product__usage_events"
    ).fetchone()
    assert (
        events == distinct == warehouse.execute("select count(distinct event_id) from raw.usage_events").fetchone()[0]
    )


def test_nanosecond_zoned_parquet_timestamps_load_exactly(warehouse, hostile):
    landed = hostile.landing.path / "usage_events" / "usage_events_late.parquet"
    assert pq.read_schema(landed).field("occurred_at").type == pa.timestamp("ns", tz="UTC")
    loaded = dict(
        warehouse.execute(
            "select event_id, occurred_at from raw.usage_events "
            "where _source_file = 'usage_events/usage_events_late.parquet'"
        ).fetchall()
    )
    part = hostile.landing.nanosecond_part
    expected = {
        event_id: moment.tz_convert(None).to_pydatetime()
        for event_id, moment in zip(part["event_id"], part["occurred_at"], strict=True)
        if moment.year < 2031
    }
    assert loaded == expected


def test_the_stray_file_is_reported_as_a_warning(hostile):
    [evaluation] = [
        e for e in hostile.first.get_asset_check_evaluations() if e.check_name == "landing_directory_is_recognised"
    ]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.description == f"1 file belongs to no source and is not loaded: {STRAY_FILE}"


def test_refreshing_the_same_input_again_gives_identical_marts_and_rejected_rows(hostile, warehouse):
    assert rejected_rows(hostile.warehouse) == hostile.first_rejected
    with duckdb.connect(str(serving_file(hostile.warehouse)), read_only=True) as con:
        con.execute(f"attach '{hostile.first_serving}' as first (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = 'first'"
        ).fetchall()
        assert len(tables) >= 8
        for schema, table in tables:
            columns = [
                f'"{name}"'
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_catalog = 'first' and table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in RUN_COLUMNS
            ]
            listed = ", ".join(columns)
            first, second = f"first.{schema}.{table}", f"{schema}.{table}"
            differing = con.execute(
                f"select count(*) from ((select {listed} from {first} except all select {listed} from {second}) "
                f"union all (select {listed} from {second} except all select {listed} from {first}))"
            ).fetchone()[0]
            assert differing == 0, f"{schema}.{table}: {differing} rows differ between the two refreshes"
