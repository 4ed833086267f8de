"""The simulated exports the bench lands: a year as of END_DATE, and the delivery of the day after.

A module of its own so that the bench can run it in a child process (see __main__.py)."""

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from orchestration.sample_data import simulate, write_landing
from orchestration.sample_data.exports import export_as_of

END_DATE = dt.date(2026, 10, 31)


def _land(result, landing: Path, usage_parts: str) -> None:
    """Writes the exports into `landing`, touching only files whose content changed."""
    fresh = Path(tempfile.mkdtemp(prefix="landing-", dir=landing.parent))
    write_landing(result, fresh, usage_parts)
    deliver(fresh, landing)
    shutil.rmtree(fresh)


def simulate_and_land(accounts: int, days: int, seed: int, usage_scale: float, usage_parts: str, work: Path) -> int:
    """Lands the exports as of END_DATE in work/landing and those of the day after in work/landing-next-day;
    returns the usage events of the first."""
    simulated = simulate(accounts, days + 1, seed, END_DATE + dt.timedelta(days=1), usage_scale)
    first_export = export_as_of(simulated, END_DATE)
    for name, export in (
        ("landing", first_export),
        ("landing-next-day", export_as_of(simulated, END_DATE + dt.timedelta(days=1))),
    ):
        (work / name).mkdir()
        _land(export, work / name, usage_parts)
    return len(first_export.frames["usage_events"])


def deliver(export: Path, landing: Path) -> None:
    """Moves the files of `export` that differ from those in `landing` into it, as a daily delivery adds a
    new part and replaces the snapshots that changed."""
    for path in export.rglob("*"):
        target = landing / path.relative_to(export)
        if path.is_file() and (not target.exists() or target.read_bytes() != path.read_bytes()):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
