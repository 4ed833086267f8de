"""The simulator's truth, written where no ingestion looks: the hidden health of every account and day.

The landing directory holds what a real team would receive; the hidden health is what no team ever sees,
the health that drove each simulated account's behaviour and churn. It is written to a truth directory
beside the landing directory (seeds/landing_truth for the sample), so tests and docs can measure how well
the health score predicts churn against the best any score could do: how well the hidden health does.

hidden_health.parquet: account_id VARCHAR, health_date DATE, hidden_health DOUBLE (in (0, 1), 4 decimals),
one row per account and simulated day, from the account's first simulated day to its last active day
(the day before a cancellation took effect: no rows on or after the churn date).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.sample_data.simulation import SimulationResult

HIDDEN_HEALTH_FILE = "hidden_health.parquet"
HIDDEN_HEALTH_DECIMALS = 4


def default_truth_dir(landing_dir: Path) -> Path:
    """The truth directory beside a landing directory: seeds/landing -> seeds/landing_truth."""
    landing_dir = landing_dir.resolve()
    return landing_dir.with_name(f"{landing_dir.name}_truth")


def write_hidden_health(result: SimulationResult, truth_dir: Path) -> Path:
    """Writes the hidden health into `truth_dir` (created if missing; nothing else in it is touched) and
    returns the file written."""
    frame = result.hidden_health
    table = pa.table(
        {
            "account_id": pa.array(frame["account_id"], type=pa.string()),
            "health_date": pa.array(frame["health_date"].to_numpy().astype("datetime64[D]"), type=pa.date32()),
            "hidden_health": pa.array(frame["hidden_health"].round(HIDDEN_HEALTH_DECIMALS), type=pa.float64()),
        }
    )
    truth_dir.mkdir(parents=True, exist_ok=True)
    path = truth_dir / HIDDEN_HEALTH_FILE
    pq.write_table(table, path, compression="zstd")
    return path


def read_hidden_health(path: Path) -> pd.DataFrame:
    """The hidden health as written, in the shape `SimulationResult.hidden_health` has: account_id,
    health_date (datetime64[ns]), hidden_health. `path` is the file or the truth directory holding it."""
    path = Path(path)
    if path.is_dir():
        path = path / HIDDEN_HEALTH_FILE
    frame = pq.read_table(path).to_pandas()
    frame["account_id"] = frame["account_id"].astype("str")
    frame["health_date"] = pd.to_datetime(frame["health_date"]).astype("datetime64[ns]")
    return frame
