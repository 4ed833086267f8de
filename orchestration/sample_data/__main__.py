"""Generates a simulated customer base into a landing directory, and its hidden health beside it.

python -m orchestration.sample_data --accounts 5000 --days 365 --seed 7 --out data/landing
writes the exports into data/landing and the hidden health into data/landing_truth/hidden_health.parquet.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from orchestration.sample_data import simulate, write_landing
from orchestration.sample_data.truth import default_truth_dir, write_hidden_health

DEFAULT_END_DATE = dt.date(2026, 10, 31)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=300, help="number of accounts (default 300)")
    parser.add_argument("--days", type=int, default=365, help="days of history (default 365)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"last simulated day, ISO date (default {DEFAULT_END_DATE})",
    )
    parser.add_argument(
        "--usage-scale",
        type=float,
        default=1.0,
        help="multiplies the events an active user records per day (default 1; about 8 gives 50 M events a year "
        "for 10,000 accounts)",
    )
    parser.add_argument(
        "--usage-parts", choices=("monthly", "daily"), default="monthly", help="usage files per month or per day"
    )
    parser.add_argument("--out", type=Path, required=True, help="landing directory to (re)create")
    parser.add_argument(
        "--truth-out",
        metavar="DIR",
        help="directory for hidden_health.parquet, the hidden health no ingestion reads; not inside --out "
        "(default: beside --out, named <out>_truth; 'none' skips it)",
    )
    args = parser.parse_args(argv)
    truth_dir = _truth_dir(parser, args.out, args.truth_out)
    result = simulate(args.accounts, args.days, args.seed, args.end_date, args.usage_scale)
    written = write_landing(result, args.out, args.usage_parts)
    for source, paths in written.items():
        print(f"{source:18} {len(result.frames[source]):>10,} rows in {len(paths)} file(s)")
    if truth_dir is not None:
        path = write_hidden_health(result, truth_dir)
        print(f"{'hidden health':18} {len(result.hidden_health):>10,} rows in {path} (not landed)")


def _truth_dir(parser: argparse.ArgumentParser, landing_dir: Path, option: str | None) -> Path | None:
    """The truth directory `--truth-out` names: its default beside the landing directory, or None for 'none'.
    Inside the landing directory the file would be erased by the next write and flagged as a stray export."""
    if option is not None and option.lower() == "none":
        return None
    truth_dir = default_truth_dir(landing_dir) if option is None else Path(option).resolve()
    if truth_dir.is_relative_to(landing_dir.resolve()):
        parser.error(f"--truth-out {truth_dir} is inside the landing directory {landing_dir}")
    return truth_dir


if __name__ == "__main__":
    main()
