"""Writes simulated sources the way real exports arrive: mixed formats, German CSVs, files in parts."""

from __future__ import annotations

import shutil
from pathlib import Path

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


def write_landing(result: SimulationResult, landing_dir: Path) -> dict[str, list[Path]]:
    """Replaces `landing_dir` with one export per source; returns the files written per source."""
    if landing_dir.exists():
        shutil.rmtree(landing_dir)
    landing_dir.mkdir(parents=True)
    written: dict[str, list[Path]] = {}
    frames = result.frames

    written["accounts"] = [landing_dir / "accounts.csv"]
    _german_csv(frames["accounts"], written["accounts"][0])

    # Product analytics exports arrive as monthly Parquet parts.
    usage_dir = landing_dir / "usage_events"
    usage_dir.mkdir()
    usage = frames["usage_events"]
    written["usage_events"] = []
    months = usage["occurred_at"].dt.strftime("%Y-%m")
    for month, part in usage.groupby(months, sort=True):
        path = usage_dir / f"usage_events_{month}.parquet"
        part.to_parquet(path, index=False, compression="zstd")
        written["usage_events"].append(path)

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
