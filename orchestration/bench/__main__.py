"""`make bench`: how long a refresh takes and how much memory it needs, at a size you choose.

python -m orchestration.bench [--accounts 10000] [--days 365] [--usage-scale 8] [--usage-parts daily]

In one run, on this machine, with the project's own simulator:
1. a full refresh through Dagster, exactly as `make run` does it (a fresh warehouse);
2. a one-day refresh after one more day of every source landed (a new usage part, updated snapshots);
3. the same full refresh without Dagster (loader, dbt build, checks, publication called in a row);
4. the floor: one hand-written DuckDB query from the landing files to the same daily scores, checked to
   agree with the project's scores on a sample of account-days;
and the ratios between them. Wall time, and peak resident memory of each whole process tree (dbt runs as a
child process). The figures go to docs/benchmarks.md with the machine, the date and the command. Timings
are one run each on a shared machine: compare ratios from the same run, not absolute seconds across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb

from orchestration.bench.deliveries import END_DATE, deliver, simulate_and_land
from orchestration.bench.measure import Measurement, run_measured
from orchestration.bench.report import BenchResult, write_report
from orchestration.settings import REPO_ROOT

REPORT = REPO_ROOT / "docs" / "benchmarks.md"


def _environment(work: Path, landing: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEALTHSCORE_", "DAGSTER_"))}
    root = work / name
    env.update(
        HEALTHSCORE_LANDING_DIR=str(landing),
        HEALTHSCORE_WAREHOUSE=str(root / "healthscore.duckdb"),
        HEALTHSCORE_SERVING=str(root / "serving" / "healthscore.duckdb"),
        DAGSTER_HOME=str(root / "dagster"),
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    (root / "dagster").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", root / "dagster" / "dagster.yaml")
    return env


def _require(measurement: Measurement) -> Measurement:
    if measurement.returncode != 0:
        tail = measurement.log.read_text()[-3000:]
        raise SystemExit(f"{measurement.label} failed (exit {measurement.returncode}); log {measurement.log}:\n{tail}")
    return measurement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts to simulate (default 10000)")
    parser.add_argument("--days", type=int, default=365, help="days of history before the new day (default 365)")
    parser.add_argument(
        "--usage-scale", type=float, default=8.0, help="events per active user and day, x (default 8: ~50 M a year)"
    )
    parser.add_argument("--usage-parts", choices=("daily", "monthly"), default="daily", help="usage files (daily)")
    parser.add_argument("--seed", type=int, default=7, help="simulation seed (default 7)")
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / "data" / "bench", help="scratch directory")
    parser.add_argument("--report", type=Path, default=REPORT, help=f"report to write (default {REPORT})")
    parser.add_argument("--floor-sample", type=int, default=5000, help="account-days compared with the floor")
    parser.add_argument(
        "--keep", action="store_true", help="keep the landing files and warehouses (default: only logs and results)"
    )
    args = parser.parse_args(argv)

    work = args.work_dir.resolve() / f"{args.accounts}x{args.days}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    python = sys.executable
    print(f"Simulating {args.accounts:,} accounts x {args.days + 1} days into {work} ...", flush=True)
    landing, next_landing = work / "landing", work / "landing-next-day"
    # In a child process: the simulation of 100 M events takes 16 GB, which Python would keep from the
    # runs measured next. Both days' deliveries are written before measuring starts.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as simulator:
        events = simulator.submit(
            simulate_and_land, args.accounts, args.days, args.seed, args.usage_scale, args.usage_parts, work
        ).result()

    dagster_env = _environment(work, landing, "dagster")
    print("Full refresh through Dagster (as make run) ...", flush=True)
    full = _require(run_measured("full", [python, "-m", "orchestration.cli", "run"], dagster_env, work / "full.log"))
    with duckdb.connect(dagster_env["HEALTHSCORE_SERVING"], read_only=True) as con:
        account_days = con.execute("select count(*) from marts.account_health_history").fetchone()[0]

    print("Same full refresh without Dagster ...", flush=True)
    plain_env = _environment(work, landing, "plain")
    plain = _require(run_measured("plain", [python, "-m", "orchestration.bench.plain"], plain_env, work / "plain.log"))

    print("Floor: one hand-written DuckDB query ...", flush=True)
    floor_db = work / "floor.duckdb"
    floor_command = [
        python,
        "-c",
        "import datetime, pathlib, sys; from orchestration.bench.floor import run_floor; "
        "run_floor(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), datetime.date.fromisoformat(sys.argv[3]), "
        "pathlib.Path(sys.argv[4]))",
        str(landing),
        str(REPO_ROOT / "seeds"),
        str(END_DATE),
        str(floor_db),
    ]
    floor = _require(run_measured("floor", floor_command, plain_env, work / "floor.log", cwd=REPO_ROOT))
    from orchestration.bench.floor import compare_with_project

    agreement = compare_with_project(floor_db, Path(dagster_env["HEALTHSCORE_WAREHOUSE"]), args.floor_sample)

    print("One new day of every source, then a refresh through Dagster ...", flush=True)
    deliver(next_landing, landing)
    one_day = _require(
        run_measured("one_day", [python, "-m", "orchestration.cli", "run"], dagster_env, work / "day.log")
    )

    result = BenchResult(
        accounts=args.accounts,
        days=args.days,
        usage_scale=args.usage_scale,
        usage_parts=args.usage_parts,
        events=events,
        account_days=account_days,
        full=full,
        one_day=one_day,
        plain=plain,
        floor=floor,
        floor_agreement=agreement,
        command=" ".join(["python -m orchestration.bench", *(argv if argv is not None else sys.argv[1:])]),
        machine=_machine(),
        date=dt.date.today(),
    )
    print(write_report(result, args.report))
    (work / "result.json").write_text(json.dumps(result.as_dict(), indent=2, default=str))
    if not args.keep:
        # Landing files, raw layers and warehouses take 11 GB at 10,000 accounts and 25 GB at 20,000.
        for path in work.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            elif path.suffix not in (".log", ".json"):
                path.unlink()
    return 0


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.machine()}, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}"
    )


if __name__ == "__main__":
    sys.exit(main())
