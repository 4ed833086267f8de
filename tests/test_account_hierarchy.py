"""Account hierarchies: the loader keeps the parent links of an accounts export a tree, and
marts.parent_account_health rolls the children's scores up to every parent as a hand computation does."""

import datetime as dt
from pathlib import Path

import pytest

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.hierarchy import find_cycles
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import RawStore, SourceLoad

CONTRACTS = load_contracts()
NOW = dt.datetime(2026, 11, 1, 12, 0)
HEADER = (
    "account_id;account_name;segment;plan;country;arr;currency;seats;contract_start_date;"
    "renewal_date;csm_owner;lifecycle_stage;contact_email;parent_account_id"
)


def accounts_file(landing: Path, links: dict[str, str]) -> Path:
    """An accounts export with one row per account of `links` (account -> parent, '' for none), in order."""
    lines = [HEADER] + [
        f"{account};Name {account};SMB;S;DE;1,00;EUR;3;01.01.2026;;;;;{parent}" for account, parent in links.items()
    ]
    landing.mkdir(parents=True, exist_ok=True)
    path = landing / "accounts.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def load_accounts(con, landing: Path) -> SourceLoad:
    store = RawStore(con, landing.parent / "raw")
    result = store.load(CONTRACTS["accounts"], find_landing_files(landing, "accounts"), landing, load_rules(), NOW)
    store.commit(CONTRACTS["accounts"], result, NOW)
    return result


def test_cycles_are_found_with_their_members_only():
    parents = {"A": "B", "B": "C", "C": "A", "D": "A", "E": "F", "G": "G"}
    assert find_cycles(parents) == [["A", "B", "C"], ["G"]]
    assert find_cycles({"A": "B", "B": "C"}) == []


def test_self_parents_cycles_and_unknown_parents_get_the_designed_messages(con, tmp_path):
    landing = tmp_path / "landing"
    # Lines 2-9: a tree (P <- C1, C2 <- G1), a self-parent, a cycle of three, a child of the cycle, an unknown parent.
    accounts_file(
        landing,
        {"P": "", "C1": "P", "C2": "P", "G1": "C2", "S": "S", "X": "Y", "Y": "Z", "Z": "X", "K": "X", "U": "HOLDING"},
    )
    result = load_accounts(con, landing)

    rejected = con.execute(
        "select location, column_name, landed_value, rule, reason from raw.rejected_rows order by source_row"
    ).fetchall()
    cycle = (
        "the chain of parents returns to this account after 3 step(s), a cycle; none of the accounts on it is loaded"
    )
    assert rejected == [
        ("line 6", "parent_account_id", "S", "row rule", "the account is its own parent"),
        ("line 7", "parent_account_id", "Y", "parent cycle", cycle),
        ("line 8", "parent_account_id", "Z", "parent cycle", cycle),
        ("line 9", "parent_account_id", "X", "parent cycle", cycle),
    ]
    loaded = dict(con.execute("select account_id, parent_account_id from raw.accounts").fetchall())
    # The tree loads as exported; a child of an account set aside and a child of an account the file lacks
    # load without a parent, and the load names each with file and line.
    assert loaded == {"P": None, "C1": "P", "C2": "P", "G1": "C2", "K": None, "U": None}
    assert result.unknown_parents == [
        "accounts.csv, line 10: parent X is not an account of this file that loads: loaded without a parent",
        "accounts.csv, line 11: parent HOLDING is not an account of this file that loads: loaded without a parent",
    ]
    # Rows read = rows loaded + rows set aside still holds.
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (10, 6, 4)


def test_an_export_without_the_parent_column_loads_every_account_without_a_parent(con, tmp_path):
    landing = tmp_path / "landing"
    path = accounts_file(landing, {"A": "", "B": ""})
    path.write_text("\n".join(line.rsplit(";", 1)[0] for line in path.read_text().splitlines()) + "\n")
    result = load_accounts(con, landing)
    assert result.rows_loaded == 2 and not result.unknown_parents
    assert con.execute("select count(parent_account_id) from raw.accounts").fetchone()[0] == 0


@pytest.mark.parametrize("broken", [{"A": "A"}, {"A": "B", "B": "A"}])
def test_a_broken_hierarchy_counts_against_the_load_limit(con, tmp_path, broken):
    """Every account set aside: more than seeds/source_load_limits.csv allows, so the source would fail."""
    accounts_file(tmp_path / "landing", broken)
    result = load_accounts(con, tmp_path / "landing")
    assert result.rows_loaded == 0 and result.rejected_share == 1.0
