"""Account hierarchies: the loader keeps the parent links of an accounts export a tree, and
marts.parent_account_health rolls the children's scores up to every parent as a hand computation does."""

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.hierarchy import find_cycles
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import RawStore, SourceLoad
from orchestration.defs.privacy.erasure import ErasureRequest, WarehouseFiles, erase
from orchestration.defs.privacy.keys import ACCOUNT
from orchestration.settings import REPO_ROOT

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


def _rates_to_reporting(day: dt.date) -> dict[str, float]:
    """Factor per currency into the reporting currency on `day`, by hand from the seeds (through the euro)."""
    rates = pd.read_csv(REPO_ROOT / "seeds" / "exchange_rates.csv", parse_dates=["valid_from_date"])
    settings = pd.read_csv(REPO_ROOT / "seeds" / "currency_settings.csv")
    reporting = settings.loc[settings["setting"] == "reporting_currency_code", "value"].item()
    valid = rates[rates["valid_from_date"] <= pd.Timestamp(day)].sort_values("valid_from_date")
    units = valid.groupby("currency_code")["units_per_eur"].last()
    return {currency: units[reporting] / per_eur for currency, per_eur in units.items()}


def test_the_sample_roll_up_equals_a_hand_computation_from_the_history(sample_run):
    """Every family and day of the committed sample: the ARR-weighted mean over the parent and every account below
    it, weakest child and counts, recomputed in pandas from the published history and account versions."""
    assert sample_run.run.returncode == 0, sample_run.run.stdout[-3000:]
    with duckdb.connect(str(sample_run.serving), read_only=True) as con:
        history = con.execute("select account_id, health_score, score_date from marts.account_health_history").df()
        # The sample is one export: one version per account, valid on every day.
        versions = con.execute(
            "select account_id, parent_account_id, arr_amount, currency_code from marts.dim_account_versions"
        ).df()
        mart = con.execute("select * from marts.parent_account_health").df()
    assert versions["account_id"].is_unique
    parents = dict(zip(versions["account_id"], versions["parent_account_id"], strict=True))
    below: dict[str, set[str]] = {}
    for account, parent in parents.items():
        while isinstance(parent, str):
            below.setdefault(parent, set()).add(account)
            parent = parents[parent]
    assert len(below) == 18 and sum(map(len, below.values())) > 60  # grandchildren count for two parents

    accounts = versions.set_index("account_id")
    rates = {day: _rates_to_reporting(day) for day in history["score_date"].dt.date.unique()}
    days = history.assign(score_date=history["score_date"].dt.date).groupby("score_date")
    expected = []
    for day, rows in days:
        scores = dict(zip(rows["account_id"], rows["health_score"], strict=True))
        for parent, family in below.items():
            children = [a for a in family if a in scores]
            if not children:
                continue
            members = children + ([parent] if parent in scores else [])
            arr = {
                a: round(float(accounts.at[a, "arr_amount"]) * rates[day][accounts.at[a, "currency_code"]], 2)
                for a in members
            }
            scored = [a for a in members if pd.notna(scores[a])]
            weight = sum(arr[a] for a in scored)
            score = (
                sum(float(scores[a]) * arr[a] for a in scored) / weight
                if weight > 0
                else (sum(float(scores[a]) for a in scored) / len(scored) if scored else None)
            )
            scored_children = sorted((float(scores[a]), a) for a in children if pd.notna(scores[a]))
            expected.append(
                {
                    "parent_account_id": parent,
                    "score_date": day,
                    "expected_score": score,
                    "expected_weakest": scored_children[0][1] if scored_children else None,
                    "expected_children": len(children),
                    "expected_arr": round(sum(arr.values()), 2),
                }
            )
    expected = pd.DataFrame(expected)
    mart["score_date"] = mart["score_date"].dt.date
    joined = expected.merge(mart, on=["parent_account_id", "score_date"], how="outer", indicator=True)
    assert (joined["_merge"] == "both").all(), joined[joined["_merge"] != "both"].head()
    assert len(joined) > 4000
    assert (joined["health_score"].astype(float) - joined["expected_score"]).abs().max() < 1e-5
    named = joined["weakest_child_account_id"].fillna("none") == joined["expected_weakest"].fillna("none")
    assert named.all(), joined.loc[
        ~named, ["parent_account_id", "score_date", "weakest_child_account_id", "expected_weakest"]
    ]
    assert (joined["child_account_count"] == joined["expected_children"]).all()
    assert (joined["arr_reporting_amount"].astype(float) - joined["expected_arr"]).abs().max() < 0.005


def test_erasing_a_parent_account_clears_it_from_its_children_who_stay(tmp_path):
    """Erasure (GDPR Art. 17) of an account that heads a family: its children keep their rows and scores but no
    longer name it, in the raw files and in warehouse tables such as the account versions; a reload of the
    same export keeps it out."""
    landing = tmp_path / "landing"
    accounts_file(landing, {"P": "", "C1": "P", "C2": "P", "O": ""})
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load_accounts(con, landing)
        # A warehouse table naming the parent beside each account's own id, as the account versions do.
        con.execute("create schema intermediate")
        con.execute("create table intermediate.versions as select account_id, parent_account_id from raw.accounts")
    files = WarehouseFiles(tmp_path / "warehouse.duckdb", tmp_path / "raw", tmp_path / "serving" / "healthscore.duckdb")
    report = erase(ErasureRequest(ACCOUNT, "P", "dpo", "CASE-7"), files)
    assert report.rows_removed == 2  # P's row in raw and in the versions table
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        expected = [("C1", None), ("C2", None), ("O", None)]
        assert con.execute("select account_id, parent_account_id from raw.accounts order by 1").fetchall() == expected
        assert con.execute("select * from intermediate.versions order by 1").fetchall() == expected
        (landing / "accounts.csv").write_text((landing / "accounts.csv").read_text() + "\n")  # changed: read again
        result = load_accounts(con, landing)
        assert con.execute("select account_id, parent_account_id from raw.accounts order by 1").fetchall() == expected
        assert sum(f.rows_erased for f in result.files) == 1
        assert not result.unknown_parents  # cleared as erased, not reported as a parent the file lacks


def test_an_accounts_file_stored_before_accounts_had_parents_is_read_again(con, tmp_path):
    """An upgraded warehouse: the stored Parquet of an unchanged export lacks parent_account_id, which the view
    must name, so the file is read again rather than the view failing."""
    landing = tmp_path / "landing"
    accounts_file(landing, {"P": "", "C": "P"})
    load_accounts(con, landing)
    raw_file = con.execute("select raw_file from raw.landed_files where source = 'accounts'").fetchone()[0]
    con.execute(f"copy (select * exclude (parent_account_id) from read_parquet('{raw_file}')) to '{raw_file}'")
    result = load_accounts(con, landing)
    assert [f.is_new for f in result.files] == [True]
    assert con.execute("select account_id, parent_account_id from raw.accounts order by 1").fetchall() == [
        ("C", "P"),
        ("P", None),
    ]
