"""GDPR erasure: keyed pseudonyms, people and accounts erased from every layer, and kept out of later loads.

The first tests run the loader on a few hand-written rows; the end-to-end tests refresh a small simulated
portfolio, erase an e-mail address and an account, and look for them in every table and view of the
warehouse and the serving file and in every Parquet file of the raw layer, before and after a refresh."""

import datetime as dt
import os
import stat
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import RawStore
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
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("set TimeZone = 'UTC'")
        yield connection


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
