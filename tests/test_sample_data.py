"""The generator: deterministic, complete per the contract, and with signal a score can find."""

import datetime as dt

import pandas as pd
import pytest

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.sample_data import simulate, write_landing

END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def medium():
    return simulate(accounts=400, days=365, seed=11, end_date=END).frames


def test_same_seed_gives_identical_data():
    first = simulate(accounts=15, days=60, seed=3, end_date=END).frames
    second = simulate(accounts=15, days=60, seed=3, end_date=END).frames
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_other_seed_gives_other_data():
    first = simulate(accounts=15, days=60, seed=3, end_date=END).frames
    other = simulate(accounts=15, days=60, seed=4, end_date=END).frames
    assert not first["usage_events"].equals(other["usage_events"])


def test_every_source_has_exactly_the_contract_columns(medium):
    for name, contract in load_contracts().items():
        assert list(medium[name].columns) == list(contract.column_names), name


def test_keys_are_unique(medium):
    for name, contract in load_contracts().items():
        assert not medium[name].duplicated(list(contract.primary_key)).any(), name


def test_every_row_refers_to_a_known_account(medium):
    accounts = set(medium["accounts"]["account_id"])
    for name, frame in medium.items():
        assert set(frame["account_id"]) <= accounts, name


def test_no_activity_after_a_cancellation(medium):
    cancelled = medium["churn_events"].query("churn_type == 'cancellation'")
    churn_day = dict(zip(cancelled["account_id"], pd.to_datetime(cancelled["churned_at"]), strict=True))
    usage = medium["usage_events"]
    after = usage[usage["account_id"].map(churn_day).lt(usage["occurred_at"].dt.tz_localize(None))]
    assert after.empty


def test_churn_is_highest_in_smb_and_lowest_in_enterprise(medium):
    accounts = medium["accounts"]
    cancelled = set(medium["churn_events"].query("churn_type == 'cancellation'")["account_id"])
    rate = accounts.assign(churned=accounts["account_id"].isin(cancelled)).groupby("segment")["churned"].mean()
    assert rate["SMB"] > rate["Mid-Market"] > rate["Enterprise"]


def test_accounts_that_churn_used_the_product_less_beforehand(medium):
    """The hidden health must leave a trace: usage per seat in the 60 days before a cancellation is lower
    than the usage of accounts that stay, over the same kind of period."""
    accounts = medium["accounts"].set_index("account_id")
    usage = medium["usage_events"]
    cancelled = medium["churn_events"].query("churn_type == 'cancellation'")
    day = usage["occurred_at"].dt.tz_localize(None).dt.normalize()

    def events_per_seat(account_id: str, end: pd.Timestamp) -> float:
        mask = (usage["account_id"] == account_id) & (day < end) & (day >= end - pd.Timedelta(days=60))
        return mask.sum() / accounts.loc[account_id, "seats"]

    churned = [
        events_per_seat(a, pd.Timestamp(d))
        for a, d in zip(cancelled["account_id"], cancelled["churned_at"], strict=True)
    ]
    staying_ids = [a for a in accounts.index if a not in set(cancelled["account_id"])]
    staying = [events_per_seat(a, pd.Timestamp(END)) for a in staying_ids]
    assert pd.Series(churned).median() < 0.8 * pd.Series(staying).median()


def test_written_landing_has_one_entry_per_source_in_mixed_formats(tmp_path):
    written = write_landing(simulate(accounts=10, days=60, seed=1, end_date=END), tmp_path)
    assert set(written) == set(load_contracts())
    assert (tmp_path / "accounts.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # German Excel: BOM, semicolons
    assert ";" in (tmp_path / "accounts.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert all(p.suffix == ".parquet" for p in written["usage_events"])
    assert all(p.parent.name == "invoices" for p in written["invoices"])


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    """The sample under seeds/landing is reproducible with `make sample`."""
    from orchestration.settings import SAMPLE_LANDING_DIR

    written = write_landing(simulate(accounts=300, days=365, seed=42, end_date=END), tmp_path)
    for paths in written.values():
        for path in paths:
            committed = SAMPLE_LANDING_DIR / path.relative_to(tmp_path)
            assert committed.exists(), committed
            if path.suffix == ".csv":
                assert committed.read_bytes() == path.read_bytes(), committed
            else:
                pd.testing.assert_frame_equal(pd.read_parquet(committed), pd.read_parquet(path))
