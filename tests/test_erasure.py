"""GDPR erasure: keyed pseudonyms, people and accounts erased from every layer, and kept out of later loads.

The first tests run the loader on a few hand-written rows; the end-to-end tests refresh a small simulated
portfolio, erase an e-mail address and an account, and look for them in every table and view of the
warehouse and the serving file and in every Parquet file of the raw layer, before and after a refresh."""

import datetime as dt
import fcntl
import itertools
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from conftest import run_refresh

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.personal_data import ERASED_REASON
from orchestration.defs.ingestion.raw_store import RawStore
from orchestration.defs.privacy.erasure import ErasureRefused, ErasureRequest, WarehouseFiles, erase
from orchestration.defs.privacy.keys import (
    ACCOUNT,
    EMAIL,
    KEY_FILE_VARIABLE,
    KEY_VARIABLE,
    PseudonymisationKeyError,
    Pseudonymiser,
    default_key_file,
    load_key,
    load_pseudonymiser,
)
from orchestration.settings import REPO_ROOT

CONTRACTS = load_contracts()
RULES = load_rules()
NOW = dt.datetime(2026, 11, 1, 12, 0)
TEST_KEY = "k" * 40
ACCOUNT_HEADER = (
    "account_id;account_name;segment;plan;country;arr;currency;seats;contract_start_date;"
    "renewal_date;csm_owner;lifecycle_stage;contact_email"
)
SURVEY_HEADER = "response_id,account_id,respondent_email,responded_at,survey_type,score,comment"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def key_from_environment(monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, TEST_KEY)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    return Pseudonymiser.from_key(TEST_KEY.encode())


@pytest.fixture
def landing(tmp_path) -> Path:
    folder = tmp_path / "landing"
    write(
        folder / "accounts.csv",
        ACCOUNT_HEADER + "\nA1;Alpha;SMB;S;DE;1,00;EUR;3;01.01.2026;;;;Jane.Doe@Example.com \n"
        "A2;Beta;SMB;S;DE;1,00;EUR;3;01.01.2026;;;;ops@beta.example\n",
    )
    write(
        folder / "survey_responses.csv",
        SURVEY_HEADER + "\n"
        "R1,A1,jane.doe@example.com,2026-10-01T10:00:00Z,nps,9,Great tool\n"
        "R2,A2,ops@beta.example,2026-10-02T10:00:00Z,nps,3,Ask JANE.DOE@example.com about it.\n"
        "R3,A1,jane.doe@example.com,2026-10-03T10:00:00Z,nps,11,score out of range\n"
        "R4,A2,ops@beta.example,2026-10-04T10:00:00Z,csat,4,\n",
    )
    return folder


def load_all(con, landing: Path, now: dt.datetime = NOW) -> dict:
    """Loads accounts, then survey responses, the way the ingestion assets do."""
    results = {}
    for source in ("accounts", "survey_responses"):
        store = RawStore(con, landing.parent / "raw")
        results[source] = store.load(CONTRACTS[source], find_landing_files(landing, source), landing, RULES, now)
        store.commit(CONTRACTS[source], results[source], now)
    return results


def suppress(con, pseudonymiser: Pseudonymiser, kind: str, identifier: str) -> None:
    con.execute(
        "insert into privacy.suppressed_identifiers values (?, ?, 'test', ?)",
        [pseudonymiser.identifier_hash(kind, identifier), kind, NOW],
    )


# --- the key ----------------------------------------------------------------------------------------------


def test_without_a_key_in_the_environment_a_key_file_is_created_once_readable_only_by_its_owner(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    warehouse = tmp_path / "healthscore.duckdb"
    first = load_key(warehouse)
    key_file = default_key_file(warehouse)
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "created a new pseudonymisation key" in capsys.readouterr().err
    assert load_key(warehouse) == first
    assert capsys.readouterr().err == "", "announced once, when it is created"
    key_file.chmod(0o644)
    with pytest.raises(PseudonymisationKeyError, match="chmod 600"):
        load_key(warehouse)


def test_a_key_in_the_environment_wins_and_must_be_long_enough(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, TEST_KEY)
    assert load_key(tmp_path / "healthscore.duckdb") == TEST_KEY.encode()
    assert not default_key_file(tmp_path / "healthscore.duckdb").exists()
    monkeypatch.setenv(KEY_VARIABLE, "short")
    with pytest.raises(PseudonymisationKeyError, match="at least 32"):
        load_key(tmp_path / "healthscore.duckdb")


def test_a_copied_warehouse_without_its_key_file_gets_no_new_key(tmp_path, landing, monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load_all(con, landing)
    copy = tmp_path / "copy" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(tmp_path / "warehouse.duckdb", copy)
    with duckdb.connect(str(copy)) as con, pytest.raises(PseudonymisationKeyError, match="needs its key file"):
        RawStore(con, tmp_path / "copy" / "raw")
    assert not default_key_file(copy).exists()
    shutil.copy(default_key_file(tmp_path / "warehouse.duckdb"), default_key_file(copy))
    with duckdb.connect(str(copy)) as con:
        RawStore(con, tmp_path / "copy" / "raw")


def test_pseudonyms_are_keyed_case_insensitive_and_differ_from_the_erasure_hashes():
    one, other = Pseudonymiser.from_key(b"a" * 32), Pseudonymiser.from_key(b"b" * 32)
    assert one.pseudonym(" Jane.Doe@Example.com") == one.pseudonym("jane.doe@example.com")
    assert one.pseudonym("jane.doe@example.com") != other.pseudonym("jane.doe@example.com")
    assert one.identifier_hash(EMAIL, "jane.doe@example.com") != one.pseudonym("jane.doe@example.com")
    assert one.identifier_hash(ACCOUNT, "acc-1 ") == one.identifier_hash(ACCOUNT, "ACC-1")
    assert "a" * 32 not in repr(one) and one.fingerprint != other.fingerprint


def test_a_warehouse_refuses_a_different_key(con, landing, monkeypatch, key_from_environment):
    load_all(con, landing)
    monkeypatch.setenv(KEY_VARIABLE, "x" * 40)
    with pytest.raises(PseudonymisationKeyError, match="not the one"):
        load_all(con, landing)


# --- loading ----------------------------------------------------------------------------------------------


def test_the_loader_stores_the_keyed_pseudonym_next_to_the_address(con, landing, key_from_environment):
    load_all(con, landing)
    rows = con.execute(
        "select respondent_email, _respondent_email_pseudonym from raw.survey_responses order by response_id"
    ).fetchall()
    assert rows == [(email, key_from_environment.pseudonym(email)) for email, _ in rows]
    contact = con.execute("select _contact_email_pseudonym from raw.accounts where account_id = 'A1'").fetchone()[0]
    assert contact == key_from_environment.pseudonym("jane.doe@example.com")


def test_rows_of_an_erased_person_are_set_aside_without_their_value_and_mentions_are_cleared(
    con, landing, key_from_environment
):
    load_all(con, landing)
    suppress(con, key_from_environment, EMAIL, "jane.doe@example.com")
    # Changed files are read again: an unrelated new answer in each.
    surveys = landing / "survey_responses.csv"
    write(surveys, surveys.read_text() + "R5,A2,,2026-10-05,csat,5,\n")
    accounts = landing / "accounts.csv"
    write(accounts, accounts.read_text() + "A3;Gamma;SMB;S;DE;1,00;EUR;3;01.01.2026;;;;\n")
    results = load_all(con, landing)

    surveys = results["survey_responses"]
    assert (surveys.rows_read, surveys.rows_loaded, surveys.rows_rejected) == (5, 3, 2)
    assert con.execute("select response_id, comment from raw.survey_responses order by 1").fetchall() == [
        ("R2", None),
        ("R4", None),
        ("R5", None),
    ]
    assert con.execute(
        "select location, column_name, landed_value, rule from raw.rejected_rows where source = 'survey_responses' "
        "order by source_row"
    ).fetchall() == [
        ("line 2", "respondent_email", None, "erased"),
        ("line 4", "respondent_email", None, "erased"),
    ], "the answer out of range counts once, as erased, and shows no value"
    assert surveys.values_cleared == 1
    # The language and sentiment of the cleared comment are not derived either.
    derived = "select response_id, _comment_language, _comment_sentiment from raw.survey_responses order by 1"
    assert con.execute(derived).fetchall() == [("R2", None, None), ("R4", None, None), ("R5", None, None)]
    # The contact is cleared, the account stays.
    assert con.execute(
        "select account_id, contact_email, _contact_email_pseudonym from raw.accounts order by 1"
    ).fetchall() == [
        ("A1", None, None),
        ("A2", "ops@beta.example", key_from_environment.pseudonym("ops@beta.example")),
        ("A3", None, None),
    ]


def test_rows_of_an_erased_account_are_set_aside_in_every_source(con, landing, key_from_environment):
    load_all(con, landing)
    suppress(con, key_from_environment, ACCOUNT, "a1")
    os.utime(landing / "accounts.csv", (1, 1))  # touched only: the same content is not read again
    for name in ("accounts.csv", "survey_responses.csv"):
        write(landing / name, (landing / name).read_text() + "\n")  # changed: read again
    results = load_all(con, landing)
    assert con.execute("select account_id from raw.accounts").fetchall() == [("A2",)]
    assert con.execute("select distinct account_id from raw.survey_responses").fetchall() == [("A2",)]
    assert con.execute("select count(*) from raw.rejected_rows where rule = 'unknown account'").fetchone()[0] == 0
    assert [(r.source, r.rows_read, r.rows_loaded + r.rows_rejected) for r in results.values()] == [
        ("accounts", 2, 2),
        ("survey_responses", 4, 4),
    ]
    # Set aside on request, not for breaking the contract: the source's limit of rejected rows ignores them.
    assert (results["accounts"].rows_rejected, results["accounts"].rejected_share) == (1, 0.0)
    manifest = con.execute("select rows_rejected, rows_erased from raw.landed_files where source = 'accounts'")
    assert manifest.fetchall() == [(1, 1)]
    erased = con.execute(
        "select source, column_name, landed_value from raw.rejected_rows where rule = 'erased' order by 1, source_row"
    ).fetchall()
    assert erased == [
        ("accounts", "account_id", None),
        ("survey_responses", "account_id", None),
        ("survey_responses", "account_id", None),
    ]


def test_rows_set_aside_keep_hashes_of_whom_they_name_so_an_erasure_finds_them(con, landing, key_from_environment):
    load_all(con, landing)
    rejected_file = con.execute(
        "select rejected_file from raw.landed_files where source = 'survey_responses'"
    ).fetchone()[0]
    keys = con.execute(f"select _erasure_keys from read_parquet('{rejected_file}')").fetchone()[0]
    assert sorted(keys) == sorted(
        [
            key_from_environment.identifier_hash(ACCOUNT, "A1"),
            key_from_environment.identifier_hash(EMAIL, "jane.doe@example.com"),
        ]
    )


def test_files_stored_before_pseudonyms_existed_are_read_again(con, landing, key_from_environment):
    load_all(con, landing)
    raw_file = con.execute("select raw_file from raw.landed_files where source = 'accounts'").fetchone()[0]
    con.execute(f"copy (select * exclude (_contact_email_pseudonym) from read_parquet('{raw_file}')) to '{raw_file}'")
    store = RawStore(con, landing.parent / "raw")
    result = store.load(CONTRACTS["accounts"], find_landing_files(landing, "accounts"), landing, RULES, NOW)
    assert [f.is_new for f in result.files] == [True]


def test_load_pseudonymiser_uses_the_key_file_next_to_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    warehouse = tmp_path / "healthscore.duckdb"
    assert load_pseudonymiser(warehouse).fingerprint == Pseudonymiser.from_key(load_key(warehouse)).fingerprint
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(default_key_file(warehouse)))
    assert load_key(tmp_path / "elsewhere.duckdb") == load_key(warehouse)


# --- erasing: a raw layer of a few rows -------------------------------------------------------------------


def files_of(tmp_path: Path) -> WarehouseFiles:
    return WarehouseFiles(tmp_path / "warehouse.duckdb", tmp_path / "raw", tmp_path / "serving" / "healthscore.duckdb")


def named_parquet_files(con) -> set[str]:
    rows = con.execute("select raw_file, rejected_file from raw.landed_files").fetchall()
    return {path for row in rows for path in row if path}


def assert_counts_add_up(con) -> None:
    """Every landed file: rows read = rows in its raw file (loaded or of unknown accounts) + rows set aside,
    and every row set aside is in its rejected file."""
    files = con.execute(
        "select landed_file, rows_read, rows_rejected, raw_file, rejected_file from raw.landed_files"
    ).fetchall()
    for landed_file, read, rejected, raw_file, rejected_file in files:
        stored = con.execute("select count(*) from read_parquet(?)", [raw_file]).fetchone()[0]
        listed = (
            con.execute("select count(distinct source_row) from read_parquet(?)", [rejected_file]).fetchone()[0]
            if rejected_file
            else 0
        )
        assert (read, rejected) == (stored + rejected, listed), landed_file


def test_erasing_a_person_rewrites_the_raw_files_and_records_only_hashes(tmp_path, landing, key_from_environment):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load_all(con, landing)
        derived = "select _comment_language from raw.survey_responses where response_id = 'R2'"
        assert con.execute(derived).fetchone()[0] == "en"
    report = erase(ErasureRequest(EMAIL, " JANE.doe@example.com", "dpo", "CASE-1"), files_of(tmp_path))
    # R1 (loaded) and R3 (set aside for its score) go; A1's contact and R2's comment are cleared.
    assert (report.rows_removed, report.values_cleared) == (2, 2)
    assert [(e.place, e.rows_removed, e.values_cleared) for e in report.effects] == [
        ("raw accounts", 0, 1),
        ("raw survey_responses", 1, 1),
        ("raw survey_responses (rows set aside before)", 1, 0),
    ]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert con.execute(
            "select response_id, comment, _comment_language, _comment_sentiment from raw.survey_responses order by 1"
        ).fetchall() == [
            ("R2", None, None, None),  # what was derived from the comment goes with it
            ("R4", None, None, None),
        ]
        assert con.execute("select contact_email from raw.accounts order by account_id").fetchall() == [
            (None,),
            ("ops@beta.example",),
        ]
        assert con.execute(
            "select location, column_name, landed_value, reason, rule from raw.rejected_rows order by source_row"
        ).fetchall() == [
            ("line 2", "respondent_email", None, ERASED_REASON, "erased"),
            ("line 4", "respondent_email", None, ERASED_REASON, "erased"),
        ]
        assert_counts_add_up(con)
        expected_hash = key_from_environment.identifier_hash(EMAIL, "jane.doe@example.com")
        suppressed = con.execute("select identifier_hash, identifier_kind from privacy.suppressed_identifiers")
        assert suppressed.fetchall() == [(expected_hash, "email")]
        audit = con.execute("select * from privacy.erasures").fetchall()
        assert len(audit) == 1 and expected_hash in audit[0] and "dpo" in audit[0]
        assert "jane" not in str(audit).lower() + str(con.execute("select * from privacy.erasure_effects").fetchall())
        changes = con.execute(
            "select source, first_event_date, last_event_date from raw.landed_file_changes "
            "where change = 'erased' order by 1"
        ).fetchall()
        assert changes == [
            ("accounts", None, None),
            ("survey_responses", dt.date(2026, 10, 1), dt.date(2026, 10, 3)),
        ], "incremental models recompute the days of the erased rows"
    again = erase(ErasureRequest(EMAIL, "jane.doe@example.com"), files_of(tmp_path))
    assert again.already_suppressed and (again.rows_removed, again.values_cleared) == (0, 0)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        named = named_parquet_files(con)
        assert con.execute("select count(*) from privacy.erasures").fetchone()[0] == 2
    assert {str(p) for p in (tmp_path / "raw").rglob("*.parquet")} == named, "old versions are deleted"


def test_the_suppression_list_is_what_keeps_an_erased_person_out_of_a_reload(tmp_path, landing, key_from_environment):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load_all(con, landing)
    erase(ErasureRequest(EMAIL, "jane.doe@example.com"), files_of(tmp_path))
    surveys = landing / "survey_responses.csv"

    def reload_and_count() -> int:
        write(surveys, surveys.read_text() + "\n")  # changed: read again
        with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
            load_all(con, landing)
            query = "select count(*) from raw.survey_responses where respondent_email like 'jane%'"
            return con.execute(query).fetchone()[0]

    assert reload_and_count() == 0
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("delete from privacy.suppressed_identifiers")
    assert reload_and_count() == 1, "without the list, the same export brings the answer back"


def test_an_erasure_refuses_to_run_beside_a_refresh_and_changes_nothing(tmp_path, landing, key_from_environment):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load_all(con, landing)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "raw").rglob("*")}
    lock = tmp_path / "warehouse.duckdb.lock"
    lock.write_text('{"run_id": "r-42", "pid": 1, "host": "x", "started_at": 0}')
    with lock.open("r+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ErasureRefused, match="run r-42 .* holds the warehouse"):
            erase(ErasureRequest(EMAIL, "jane.doe@example.com"), files_of(tmp_path))
    # A process with the DuckDB file open (a refresh without the lock file, or a stray BI client).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(tmp_path / 'warehouse.duckdb')!r}); "
            "print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(ErasureRefused, match="which still has the DuckDB file open"):
            erase(ErasureRequest(EMAIL, "jane.doe@example.com"), files_of(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "raw").rglob("*")} == before
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from privacy.suppressed_identifiers").fetchone()[0] == 0
        assert con.execute("select count(*) from raw.survey_responses").fetchone()[0] == 3


def test_an_erasure_that_would_leave_something_behind_is_rolled_back(tmp_path, landing, key_from_environment):
    # The address also sits in a column the contract does not mark as personal data: better no erasure
    # than one that says it is done.
    write(
        landing / "accounts.csv",
        (landing / "accounts.csv").read_text().replace("01.01.2026;;;;ops@", "01.01.2026;;jane.doe@example.com;;ops@"),
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load_all(con, landing)
    with pytest.raises(ErasureRefused, match=r"rolled back.*raw\.accounts\.csm_owner"):
        erase(ErasureRequest(EMAIL, "jane.doe@example.com"), files_of(tmp_path))
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.survey_responses").fetchone()[0] == 3
        assert con.execute("select count(*) from privacy.erasures").fetchone()[0] == 0
        named = named_parquet_files(con)
    assert {str(p) for p in (tmp_path / "raw").rglob("*.parquet")} == named, "the new files are gone again"


# --- end to end: a refreshed portfolio --------------------------------------------------------------------


@dataclass(frozen=True)
class Portfolio:
    """A refreshed small portfolio with a person and an account to erase, before and after the erasure."""

    root: Path
    landing: Path
    address: str
    pseudonym: str
    account_id: str
    found_before: dict[str, int]
    pseudonyms_in_staging: set[str]
    cli: subprocess.CompletedProcess
    account_run: dg.ExecuteInProcessResult
    found_after: dict[str, int]
    refresh_after: dg.ExecuteInProcessResult
    found_after_reload: dict[str, int]
    hashes: tuple[str, str]
    """Keyed hashes of the address and the account, as the suppression list keeps them."""

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "healthscore.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "warehouse" / "serving" / "healthscore.duckdb"

    @property
    def needles(self) -> list[str]:
        return [self.address, self.pseudonym, self.account_id]


def environment(root: Path, landing: Path) -> dict[str, str]:
    return {
        "HEALTHSCORE_WAREHOUSE": str(root / "warehouse" / "healthscore.duckdb"),
        "HEALTHSCORE_SERVING": str(root / "warehouse" / "serving" / "healthscore.duckdb"),
        "HEALTHSCORE_LANDING_DIR": str(landing),
    }


def search(root: Path, needles: list[str], hashes: list[str]) -> dict[str, int]:
    """Where any needle occurs, case-insensitively: every column of every table and view of the warehouse and
    the serving file, every column of every Parquet file under raw/, and the bytes of both DuckDB files. The
    keyed hashes of erased identifiers are looked for too, except in the privacy schema that keeps them."""
    found: dict[str, int] = {}
    warehouse_dir = root / "warehouse"
    lowered = [needle.lower() for needle in needles]
    with duckdb.connect() as con:
        for name, path in (
            ("warehouse", warehouse_dir / "healthscore.duckdb"),
            ("serving", warehouse_dir / "serving" / "healthscore.duckdb"),
        ):
            con.execute(f"attach '{path}' as {name} (read_only)")
            relations = con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = ? union all "
                "select schema_name, view_name from duckdb_views() where database_name = ? and not internal",
                [name, name],
            ).fetchall()
            for schema, table in relations:
                columns = [row[0] for row in con.execute(f'describe "{name}"."{schema}"."{table}"').fetchall()]
                wanted = lowered + (hashes if schema != "privacy" else [])
                for column, needle in itertools.product(columns, wanted):
                    count = con.execute(
                        f'select count(*) from "{name}"."{schema}"."{table}" '
                        f'where contains(lower(cast("{column}" as varchar)), ?)',
                        [needle],
                    ).fetchone()[0]
                    if count:
                        found[f"{name} {schema}.{table}.{column} ~ {needle}"] = count
            con.execute(f"detach {name}")
        for path in sorted((warehouse_dir / "raw").rglob("*.parquet")):
            columns = [row[0] for row in con.execute(f"describe select * from read_parquet('{path}')").fetchall()]
            for column, needle in itertools.product(columns, lowered + hashes):
                count = con.execute(
                    f"select count(*) from read_parquet('{path}') "
                    f'where contains(lower(cast("{column}" as varchar)), ?)',
                    [needle],
                ).fetchone()[0]
                if count:
                    found[f"raw {path.relative_to(warehouse_dir)}.{column} ~ {needle}"] = count
    for path in (warehouse_dir / "healthscore.duckdb", warehouse_dir / "serving" / "healthscore.duckdb"):
        content = path.read_bytes()
        for needle in needles:
            if needle.encode() in content:
                found[f"bytes of {path.name} ~ {needle}"] = content.count(needle.encode())
    return found


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Failed steps and failed checks of a run, for an assertion message."""
    steps = [
        f"{event.step_key}: {event.step_failure_data.error.message if event.step_failure_data.error else ''}"
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    checks = [
        f"{check.asset_key.to_user_string()} {check.check_name}: {check.metadata}"
        for check in result.get_asset_check_evaluations()
        if not check.passed
    ]
    return steps + checks


def add_line(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text + ("" if text.endswith("\n") else "\n") + line + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def portfolio(small_landing: Path, dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Portfolio:
    root = tmp_path_factory.mktemp("erasure")
    landing = root / "landing"
    shutil.copytree(small_landing, landing)
    surveys = pd.read_csv(landing / "survey_responses.csv")
    usage_accounts = set(pd.read_parquet(landing / "usage_events")["account_id"])
    invoice_accounts = set(pd.read_csv(landing / "invoices" / "invoices_2026.csv")["account_id"])
    # The account to erase: one that appears in every source it can; the person: a respondent of another account,
    # who is also a third account's contact (written in capitals) and mentioned in a CSM's note.
    account_id = next(
        a for a in surveys["account_id"].value_counts().index if a in usage_accounts and a in invoice_accounts
    )
    person = surveys[surveys["account_id"] != account_id]["respondent_email"].value_counts().index[0]
    person_account = surveys.loc[surveys["respondent_email"] == person, "account_id"].iloc[0]
    accounts_csv = landing / "accounts.csv"
    accounts = accounts_csv.read_text(encoding="utf-8-sig").splitlines()
    contact_line = next(
        i for i, line in enumerate(accounts[1:], 1) if not line.startswith((account_id, person_account))
    )
    fields = accounts[contact_line].split(";")
    fields[accounts[0].split(";").index("contact_email")] = f" {person.upper()} "
    accounts[contact_line] = ";".join(fields)
    accounts_csv.write_text("\ufeff" + "\n".join(accounts) + "\n", encoding="utf-8")
    # Rows set aside at load: an answer of the person out of range, an invoice of the account below zero.
    add_line(landing / "survey_responses.csv", f"RSP-ERASE-1,{person_account},{person},2026-10-20T10:00:00Z,nps,11,")
    add_line(
        landing / "invoices" / "invoices_2026.csv", f"INV-ERASE-1,{account_id},2026-10-01,2026-10-31,,-5.0,EUR,open"
    )
    add_line(
        landing / "csm_ratings.csv",
        f"{person_account},2026-10-29,3,Test CSM,2026-12-31,Call {person} about the renewal.",
    )

    env = environment(root, landing)
    first = run_refresh(Path(env["HEALTHSCORE_WAREHOUSE"]), landing)
    assert first.success, "the portfolio with the injected rows refreshes"
    pseudonymiser = Pseudonymiser.from_key(load_key(Path(env["HEALTHSCORE_WAREHOUSE"])))
    pseudonym = pseudonymiser.pseudonym(person)
    with duckdb.connect(env["HEALTHSCORE_WAREHOUSE"], read_only=True) as con:
        in_staging = {
            row[0]
            for row in con.execute(
                "select respondent_email_pseudonym from staging.stg_surveys__survey_responses "
                "where response_id in (select response_id from raw.survey_responses where respondent_email = ?) "
                "union all select contact_email_pseudonym from staging.stg_crm__accounts "
                "where account_id in (select account_id from raw.accounts where lower(trim(contact_email)) = ?)",
                [person, person],
            ).fetchall()
        }
    hashes = [pseudonymiser.identifier_hash(EMAIL, person), pseudonymiser.identifier_hash(ACCOUNT, account_id)]
    found_before = search(root, [person, pseudonym, account_id], hashes)

    cli = subprocess.run(
        [sys.executable, "-m", "orchestration.erase", "--email", "-", "--reference", "DSR-2026-001"],
        input=f"  {person.upper()}\n",
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        from orchestration.definitions import build_definitions
        from orchestration.settings import load_settings

        job = build_definitions(load_settings()).resolve_job_def("erase_personal_data")
        account_run = job.execute_in_process(
            run_config={
                "ops": {"erase_identifier": {"config": {"identifier": account_id.lower(), "performed_by": "dpo"}}}
            },
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    found_after = search(root, [person, pseudonym, account_id], hashes)

    # The same exports again: most files only touched, some changed (read again), none bringing anyone back.
    for path in sorted(landing.rglob("*.*")):
        os.utime(path)
    for name in ("accounts.csv", "survey_responses.csv", "csm_ratings.csv", "invoices/invoices_2026.csv"):
        add_line(landing / name, "")
    part = next(
        p
        for p in sorted((landing / "usage_events").glob("*.parquet"))
        if account_id in set(pd.read_parquet(p)["account_id"])
    )
    pd.read_parquet(part).to_parquet(part, index=False, compression="snappy")
    refresh_after = run_refresh(Path(env["HEALTHSCORE_WAREHOUSE"]), landing)
    return Portfolio(
        root=root,
        landing=landing,
        address=person,
        pseudonym=pseudonym,
        account_id=account_id,
        found_before=found_before,
        pseudonyms_in_staging=in_staging,
        cli=cli,
        account_run=account_run,
        found_after=found_after,
        refresh_after=refresh_after,
        found_after_reload=search(root, [person, pseudonym, account_id], hashes),
        hashes=tuple(hashes),
    )


def test_before_the_erasure_the_search_finds_the_person_and_the_account_everywhere(portfolio):
    """The search below would fail without an erasure: it finds all three in each place they are kept."""
    assert portfolio.pseudonyms_in_staging == {portfolio.pseudonym}, "staging computes the pseudonym searched for"
    found = " ".join(portfolio.found_before)
    for expected in (
        "raw raw/survey_responses/survey_responses.csv",  # the address and its pseudonym in the raw Parquet
        f"~ {portfolio.address}",
        f"~ {portfolio.pseudonym}",
        f"staging.stg_surveys__survey_responses.respondent_email_pseudonym ~ {portfolio.pseudonym}",
        f"staging.stg_crm__accounts.contact_email_pseudonym ~ {portfolio.pseudonym}",
        f"raw.csm_ratings.note ~ {portfolio.address}",
        f"marts.account_health_history.account_id ~ {portfolio.account_id.lower()}",
        f"serving marts.account_health_scores.account_id ~ {portfolio.account_id.lower()}",
        f"bytes of healthscore.duckdb ~ {portfolio.account_id}",
        # Rows set aside (the answer out of range, the negative invoice) name them by keyed hash only.
        "rejected/survey_responses.csv.",
        f"_erasure_keys ~ {portfolio.hashes[0]}",
        f"_erasure_keys ~ {portfolio.hashes[1]}",
    ):
        assert expected in found, expected


def test_after_erasing_the_address_its_pseudonym_and_the_account_appear_nowhere(portfolio):
    assert portfolio.cli.returncode == 0, portfolio.cli.stderr
    assert portfolio.address not in portfolio.cli.stdout.lower(), "the command does not echo the address"
    assert portfolio.account_run.success
    assert portfolio.found_after == {}


def test_a_refresh_with_the_same_exports_touched_or_changed_keeps_them_out(portfolio):
    assert portfolio.refresh_after.success, failures(portfolio.refresh_after)
    assert portfolio.found_after_reload == {}
    with duckdb.connect(str(portfolio.warehouse), read_only=True) as con:
        reread = {
            row[0]
            for row in con.execute(
                "select landed_file from raw.landed_file_changes where change = 'loaded' "
                "and changed_at > (select max(erased_at) from privacy.erasures)"
            ).fetchall()
        }
        assert {"accounts.csv", "survey_responses.csv", "csm_ratings.csv", "invoices/invoices_2026.csv"} <= reread
        assert any(name.startswith("usage_events/") for name in reread)
        erased = con.execute(
            "select source, count(*), count(landed_value) from raw.rejected_rows where rule = 'erased' "
            "group by 1 order by 1"
        ).fetchall()
        assert {source for source, _, _ in erased} >= {"accounts", "survey_responses", "invoices", "usage_events"}
        assert all(values == 0 for _, _, values in erased), "no value of an erased row is shown"
        assert_counts_add_up(con)
        # The loads overview tells rows erased on request from rows breaking the contract.
        erased_rows, contract_rows = con.execute(
            "select count(distinct (source, landed_file, source_row)) filter (where rule = 'erased'), "
            "count(distinct (source, landed_file, source_row)) filter (where rule <> 'erased') "
            "from raw.rejected_rows where rule <> 'unknown account'"
        ).fetchone()
        overview = "select sum(rows_erased), sum(rows_breaking_the_contract) from staging.stg_ingestion__landed_files"
        assert con.execute(overview).fetchone() == (erased_rows, contract_rows)
        # The incremental usage staging recomputed the days the erasure touched and agrees with its raw rows.
        stored, recomputed = con.execute(
            "select (select count(*) from staging.stg_product__usage_events), "
            "(select count(*) from (select distinct cast(occurred_at as date), event_id from raw.usage_events))"
        ).fetchone()
        assert stored == recomputed


def test_the_audit_and_the_suppression_list_hold_only_keyed_hashes(portfolio):
    with duckdb.connect(str(portfolio.warehouse), read_only=True) as con:
        suppressed = con.execute(
            "select identifier_kind, identifier_hash from privacy.suppressed_identifiers order by 1"
        ).fetchall()
        audit = con.execute(
            "select identifier_kind, identifier_hash, performed_by, request_reference, started_from, rows_removed "
            "from privacy.erasures order by erased_at"
        ).fetchall()
        effects = con.execute("select place, rows_removed from privacy.erasure_effects").fetchall()
    pseudonymiser = Pseudonymiser.from_key(load_key(portfolio.warehouse))
    hashes = {
        "account": pseudonymiser.identifier_hash(ACCOUNT, portfolio.account_id),
        "email": pseudonymiser.identifier_hash(EMAIL, portfolio.address),
    }
    assert suppressed == sorted(hashes.items())
    assert [(kind, hash_) for kind, hash_, *_ in audit] == [("email", hashes["email"]), ("account", hashes["account"])]
    assert audit[0][3] == "DSR-2026-001" and audit[1][2] == "dpo" and audit[1][4].startswith("dagster run ")
    assert all(row[-1] > 0 for row in audit)
    removed = dict(effects)
    assert removed["marts.account_health_history"] > 0 and removed["serving marts.account_health_history"] > 0
    text = str(suppressed + audit + effects).lower()
    assert not [needle for needle in portfolio.needles if needle.lower() in text]
