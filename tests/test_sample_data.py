"""The generator: deterministic, complete per the contract, and with signal a score can find."""

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.landing import stray_landing_files
from orchestration.sample_data import simulate, write_landing
from orchestration.sample_data.__main__ import main as sample_data_cli
from orchestration.sample_data.exports import export_as_of
from orchestration.sample_data.truth import HIDDEN_HEALTH_FILE, read_hidden_health, write_hidden_health

END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def medium_result():
    return simulate(accounts=400, days=365, seed=11, end_date=END)


@pytest.fixture(scope="module")
def medium(medium_result):
    return medium_result.frames


@pytest.fixture(scope="module")
def sample():
    """What `make sample` simulates."""
    return simulate(accounts=300, days=365, seed=42, end_date=END)


def test_same_seed_gives_identical_data():
    first = simulate(accounts=15, days=60, seed=3, end_date=END)
    second = simulate(accounts=15, days=60, seed=3, end_date=END)
    for name in first.frames:
        pd.testing.assert_frame_equal(first.frames[name], second.frames[name])
    pd.testing.assert_frame_equal(first.hidden_health, second.hidden_health)


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


def test_committed_sample_is_what_the_generator_makes(tmp_path, sample):
    """The sample under seeds/landing is reproducible with `make sample`."""
    from orchestration.settings import SAMPLE_LANDING_DIR

    written = write_landing(sample, tmp_path)
    for paths in written.values():
        for path in paths:
            committed = SAMPLE_LANDING_DIR / path.relative_to(tmp_path)
            assert committed.exists(), committed
            if path.suffix == ".csv":
                assert committed.read_bytes() == path.read_bytes(), committed
            else:
                pd.testing.assert_frame_equal(pd.read_parquet(committed), pd.read_parquet(path))


def _simulated_days(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per account, the first and last day it is simulated: from its contract start (the window's first day
    at the earliest) to the window's last day, or to the day before its cancellation."""
    accounts = frames["accounts"]
    window_start = pd.Timestamp(END - dt.timedelta(days=364))
    cancelled = frames["churn_events"].query("churn_type == 'cancellation'")
    churn_date = pd.to_datetime(cancelled.set_index("account_id")["churned_at"])
    return pd.DataFrame(
        {
            "first": pd.to_datetime(accounts["contract_start_date"]).clip(lower=window_start).to_numpy(),
            "last": accounts["account_id"]
            .map(churn_date - pd.Timedelta(days=1))
            .fillna(pd.Timestamp(END))
            .to_numpy(dtype="datetime64[ns]"),
        },
        index=accounts["account_id"],
    )


def test_hidden_health_is_between_0_and_1(medium_result):
    health = medium_result.hidden_health["hidden_health"]
    assert health.notna().all()
    assert ((health > 0) & (health < 1)).all()


def test_hidden_health_has_one_row_per_account_and_simulated_day(medium_result):
    hidden = medium_result.hidden_health
    assert list(hidden.columns) == ["account_id", "health_date", "hidden_health"]
    assert not hidden.duplicated(["account_id", "health_date"]).any()
    expected = _simulated_days(medium_result.frames)
    found = hidden.groupby("account_id")["health_date"].agg(["min", "max", "count"])
    assert set(found.index) == set(expected.index)
    found = found.loc[expected.index]
    assert (found["min"] == expected["first"]).all()
    assert (found["max"] == expected["last"]).all()
    assert (found["count"] == (expected["last"] - expected["first"]).dt.days + 1).all()


def test_no_hidden_health_on_or_after_a_cancellation(medium_result):
    cancelled = medium_result.frames["churn_events"].query("churn_type == 'cancellation'")
    assert len(cancelled) > 50
    churn_date = dict(zip(cancelled["account_id"], pd.to_datetime(cancelled["churned_at"]), strict=True))
    hidden = medium_result.hidden_health
    assert not (hidden["health_date"] >= hidden["account_id"].map(churn_date)).any()


def test_hidden_health_is_low_in_the_30_days_before_a_cancellation(medium_result):
    """The signal a score has to find exists: in the 30 days that decided a cancellation (an account's last
    30 rows) the hidden health is well below that of accounts that never cancel, over their last 30 days."""
    hidden = medium_result.hidden_health
    cancelled = set(medium_result.frames["churn_events"].query("churn_type == 'cancellation'")["account_id"])
    last_30 = hidden.groupby("account_id").tail(30)
    churning = last_30[last_30["account_id"].isin(cancelled)]["hidden_health"].mean()
    staying = last_30[~last_30["account_id"].isin(cancelled)]["hidden_health"].mean()
    assert churning < staying - 0.15


def test_export_as_of_keeps_the_hidden_health_up_to_that_day(medium_result):
    day = END - dt.timedelta(days=100)
    export = export_as_of(medium_result, day)
    expected = medium_result.hidden_health.query("health_date <= @day")
    pd.testing.assert_frame_equal(export.hidden_health, expected.reset_index(drop=True))


def test_hidden_health_file_is_zstd_parquet_with_dates_and_four_decimals(tmp_path):
    result = simulate(accounts=10, days=60, seed=1, end_date=END)
    path = write_hidden_health(result, tmp_path / "truth")
    assert path == tmp_path / "truth" / HIDDEN_HEALTH_FILE
    schema = pq.read_schema(path)
    assert [(f.name, str(f.type)) for f in schema] == [
        ("account_id", "string"),
        ("health_date", "date32[day]"),
        ("hidden_health", "double"),
    ]
    metadata = pq.ParquetFile(path).metadata
    assert {metadata.row_group(0).column(i).compression for i in range(3)} == {"ZSTD"}
    expected = result.hidden_health.assign(hidden_health=result.hidden_health["hidden_health"].round(4))
    pd.testing.assert_frame_equal(read_hidden_health(path), expected)
    pd.testing.assert_frame_equal(read_hidden_health(path.parent), expected)


def test_cli_writes_the_hidden_health_beside_the_landing_directory_where_ingestion_does_not_look(tmp_path):
    landing = tmp_path / "landing"
    sample_data_cli(["--accounts", "5", "--days", "60", "--seed", "2", "--out", str(landing)])
    assert (tmp_path / "landing_truth" / HIDDEN_HEALTH_FILE).is_file()
    assert stray_landing_files(landing, list(load_contracts())) == []
    assert not any("truth" in str(path) or path.name == HIDDEN_HEALTH_FILE for path in landing.rglob("*"))


def test_cli_truth_out_names_the_directory_or_skips_it(tmp_path):
    arguments = ["--accounts", "5", "--days", "60", "--seed", "2", "--out", str(tmp_path / "landing")]
    sample_data_cli([*arguments, "--truth-out", str(tmp_path / "elsewhere")])
    assert (tmp_path / "elsewhere" / HIDDEN_HEALTH_FILE).is_file()
    sample_data_cli([*arguments, "--truth-out", "none"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "landing"]
    with pytest.raises(SystemExit):
        sample_data_cli([*arguments, "--truth-out", str(tmp_path / "landing" / "truth")])


def test_committed_hidden_health_is_what_the_generator_makes(sample):
    """seeds/landing_truth/hidden_health.parquet is reproducible with `make sample`, and it is not in the
    landing directory the ingestion reads."""
    from orchestration.settings import REPO_ROOT, SAMPLE_LANDING_DIR

    committed = REPO_ROOT / "seeds" / "landing_truth" / HIDDEN_HEALTH_FILE
    assert not committed.is_relative_to(SAMPLE_LANDING_DIR)
    expected = sample.hidden_health.assign(hidden_health=sample.hidden_health["hidden_health"].round(4))
    pd.testing.assert_frame_equal(read_hidden_health(committed), expected)
