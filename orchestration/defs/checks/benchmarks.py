"""The portfolio against the usual reference figures of seeds/benchmarks.csv, one warning check per benchmark.
marts.portfolio_benchmarks computes each figure and rates it against the seed's ranges; these checks only
report what it found, so that a figure outside its expected range is seen in every run. Informational: a
benchmark never blocks publishing."""

import csv
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.checks.outcome import Outcome
from orchestration.defs.checks.results import run_checks
from orchestration.defs.resources import WarehouseResource
from orchestration.settings import REPO_ROOT

BENCHMARKS_SEED = REPO_ROOT / "seeds" / "benchmarks.csv"
BENCHMARKS_MART = dg.AssetKey(["marts", "portfolio_benchmarks"])
PORTFOLIO = "all"  # the segment value of the whole portfolio in the seed and the mart
# The mart's ratings of a figure without a value, and of one no range of the seed holds (neither unexpected).
NO_DATA = "no data"
NO_BENCHMARK = "no benchmark"

# How a benchmark reads in a sentence, and whether its value is a share shown as a percentage. A benchmark
# not named here is shown by its seed name and plain value.
SHOWN_AS = {
    "portfolio_nps": ("portfolio NPS", False),
    "monthly_churn_rate": ("monthly churn", True),
    "average_health_score": ("average health", False),
    "ticket_csat": ("ticket CSAT (ratings 4-5)", True),
    "red_account_share": ("red share", True),
}


def benchmark_names(path: Path = BENCHMARKS_SEED) -> list[str]:
    """The benchmarks the seed defines, in the order it lists them: one check each."""
    with path.open(newline="") as f:
        return list(dict.fromkeys(row["benchmark"] for row in csv.DictReader(f)))


def _shown(benchmark: str, value: float) -> str:
    _, share = SHOWN_AS.get(benchmark, (benchmark, False))
    return f"{value:.1%}" if share else f"{value:.1f}"


def _bounds(lower: float | None, upper: float | None) -> str:
    return f"{'' if lower is None else f'{lower:g}'} .. {'' if upper is None else f'{upper:g}'}"


def rate_benchmark(con: duckdb.DuckDBPyConnection, benchmark: str) -> Outcome:
    """The benchmark's rows of marts.portfolio_benchmarks: the portfolio's figure and rating, and those of
    each segment the seed rates separately. Fails (as a warning) when any figure lies in an unexpected range."""
    label, _ = SHOWN_AS.get(benchmark, (benchmark, False))
    rows = con.execute(
        "select segment, value, rating, is_expected, lower_bound, upper_bound, observation_count, score_date "
        "from marts.portfolio_benchmarks where benchmark = ? order by segment",
        [benchmark],
    ).fetchall()
    rated = {
        segment: {
            "value": None if value is None else round(float(value), 4),
            "rating": rating,
            "is_expected": bool(is_expected),
            "range": _bounds(lower, upper) if lower is not None or upper is not None else "",
            "observations": observations,
            "score_date": str(score_date),
        }
        for segment, value, rating, is_expected, lower, upper, observations, score_date in rows
    }
    overall = rated.pop(PORTFOLIO, None)
    if overall is None or overall["value"] is None:
        # Before the first scored day (or without the answers a figure needs) there is nothing to compare.
        return Outcome(True, f"{label}: no data, nothing to compare", {"value": None, "rating": NO_DATA})
    # Segments are shown where the seed rates them; the mart has a row for every segment of the day.
    segments = {s: r for s, r in rated.items() if r["value"] is not None and r["rating"] != NO_BENCHMARK}
    unexpected = [segment for segment, r in segments.items() if not r["is_expected"]]
    summary = (
        f"{label} {_shown(benchmark, overall['value'])}: {overall['rating']}"
        + (
            " (" + ", ".join(f"{s} {_shown(benchmark, r['value'])}" for s, r in segments.items()) + ")"
            if segments
            else ""
        )
        + (f"; outside the usual range: {', '.join(unexpected)}" if unexpected else "")
    )
    metadata = {
        **overall,
        "per_segment": {s: f"{_shown(benchmark, r['value'])} ({r['rating']})" for s, r in segments.items()} or None,
    }
    return Outcome(overall["is_expected"] and not unexpected, summary, metadata)


def _benchmark_check(benchmark: str):
    def check(con: duckdb.DuckDBPyConnection) -> Outcome:
        return rate_benchmark(con, benchmark)

    return check


BENCHMARKS = {
    f"benchmark_{benchmark}": (
        dg.AssetCheckSpec(
            f"benchmark_{benchmark}",
            asset=BENCHMARKS_MART,
            blocking=False,
            description=f"{SHOWN_AS.get(benchmark, (benchmark,))[0]} against the ranges of seeds/benchmarks.csv "
            "(a warning outside the expected range; never blocks publishing).",
        ),
        _benchmark_check(benchmark),
    )
    for benchmark in benchmark_names()
}


@dg.multi_asset_check(specs=[spec for spec, _ in BENCHMARKS.values()], can_subset=True)
def benchmark_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(read_only=True) as con:
        yield from run_checks(con, BENCHMARKS, dg.AssetCheckSeverity.WARN, context)
