"""Writes simulated sources the way real exports arrive: mixed formats, German CSVs, files in parts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.sample_data.simulation import SimulationResult


def _german_csv(frame: pd.DataFrame, path: Path) -> None:
    """A CRM export as German Excel writes it: BOM, semicolons, decimal commas, dd.mm.yyyy dates."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if column.endswith("_date"):
            out[column] = pd.to_datetime(values).dt.strftime("%d.%m.%Y")
        elif pd.api.types.is_float_dtype(values):
            out[column] = values.map(
                lambda v: "" if pd.isna(v) else f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
            )
    out.to_csv(path, sep=";", index=False, encoding="utf-8-sig")


def _iso_csv(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif pd.api.types.is_float_dtype(out[column]) and column in ("csat_rating", "score"):
            out[column] = out[column].astype("Int64")
    out.to_csv(path, index=False)


def write_usage_parts(usage: pd.DataFrame, usage_dir: Path, parts: str = "monthly") -> list[Path]:
    """Writes usage events (in time order) as one Parquet file per month or per day, as product analytics
    exports arrive; returns the files written."""
    usage_dir.mkdir(parents=True, exist_ok=True)
    key = "%Y-%m" if parts == "monthly" else "%Y-%m-%d"
    days = usage["occurred_at"].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    period = days.astype("datetime64[M]") if parts == "monthly" else days
    # The events are in time order, so each part is one slice.
    boundaries = np.flatnonzero(period[1:] != period[:-1]) + 1
    written = []
    for start, end in zip(np.r_[0, boundaries], np.r_[boundaries, len(usage)], strict=True):
        if start == end:
            continue
        part = usage.iloc[start:end]
        path = usage_dir / f"usage_events_{part['occurred_at'].iloc[0].strftime(key)}.parquet"
        part.to_parquet(path, index=False, compression="zstd")
        written.append(path)
    return written


def write_landing(result: SimulationResult, landing_dir: Path, usage_parts: str = "monthly") -> dict[str, list[Path]]:
    """Replaces `landing_dir` with one export per source; returns the files written per source. Usage events
    come as monthly or daily Parquet parts (`usage_parts`)."""
    if landing_dir.exists():
        shutil.rmtree(landing_dir)
    landing_dir.mkdir(parents=True)
    written: dict[str, list[Path]] = {}
    frames = result.frames

    written["accounts"] = [landing_dir / "accounts.csv"]
    _german_csv(frames["accounts"], written["accounts"][0])

    written["usage_events"] = write_usage_parts(frames["usage_events"], landing_dir / "usage_events", usage_parts)

    # Billing exports arrive per year, in a folder.
    invoice_dir = landing_dir / "invoices"
    invoice_dir.mkdir()
    invoices = frames["invoices"]
    written["invoices"] = []
    years = pd.to_datetime(invoices["issued_date"]).dt.year
    for year, part in invoices.groupby(years, sort=True):
        path = invoice_dir / f"invoices_{year}.csv"
        _iso_csv(part, path)
        written["invoices"].append(path)

    for name in ("support_tickets", "survey_responses", "milestones", "churn_events", "csm_ratings"):
        path = landing_dir / f"{name}.csv"
        _iso_csv(frames[name], path)
        written[name] = [path]
    return written
