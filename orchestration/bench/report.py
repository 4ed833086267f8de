"""The benchmark's figures as Markdown: one section per portfolio size in docs/benchmarks.md, replaced when
that size is measured again, with the machine, the date and the command that produced it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestration.bench.measure import Measurement

HEADER = """# Benchmarks

Produced by `make bench` (`python -m orchestration.bench`); each section is one run of it at one size, on
the machine it names. Every figure is one measurement: the machine is shared, so compare the ratios within a
section, not seconds across sections. Peak memory is the resident memory of the whole process tree (the
Dagster process and dbt, its child), sampled every 50 ms.

Targets (issue 7, on 2 cores / 24 GiB): a full refresh within 2x the floor (aim 1.5x) and within 4 GiB; one
new day at most 5% of a full refresh; Dagster at most 3 s over the same steps without it on the sample.
"""


@dataclass(frozen=True)
class BenchResult:
    accounts: int
    days: int
    usage_scale: float
    usage_parts: str
    events: int
    account_days: int
    full: Measurement
    one_day: Measurement
    plain: Measurement
    floor: Measurement
    floor_agreement: object
    command: str
    machine: str
    date: dt.date

    def as_dict(self) -> dict:
        return {**asdict(self), "floor_agreement": str(self.floor_agreement)}


def _seconds(m: Measurement) -> str:
    return f"{m.seconds:,.1f} s"


def _memory(m: Measurement) -> str:
    return f"{m.peak_rss_gib:.2f} GiB"


def render(result: BenchResult) -> str:
    full, one_day, plain, floor = result.full, result.one_day, result.plain, result.floor
    agreement = result.floor_agreement
    title = f"## {result.accounts:,} accounts x {result.days} days ({result.events:,} usage events)"
    rows = [
        ("full refresh through Dagster (as `make run`)", _seconds(full), _memory(full)),
        ("one new day, through Dagster", _seconds(one_day), _memory(one_day)),
        ("full refresh without Dagster (loader, dbt build, checks, publish)", _seconds(plain), _memory(plain)),
        ("floor: one hand-written DuckDB query", _seconds(floor), _memory(floor)),
    ]
    ratios = [
        ("full refresh / floor", f"{full.seconds / floor.seconds:.2f}x", "at most 2x (aim 1.5x)"),
        ("one new day / full refresh", f"{one_day.seconds / full.seconds:.1%}", "at most 5%"),
        (
            "Dagster / without Dagster",
            f"{full.seconds / plain.seconds:.2f}x ({full.seconds - plain.seconds:+.1f} s)",
            "at most +3 s on the sample",
        ),
        ("peak memory of the full refresh", _memory(full), "at most 4 GiB"),
        ("usage events per second, full refresh", f"{result.events / full.seconds:,.0f}", ""),
        ("account-days scored per second, full refresh", f"{result.account_days / full.seconds:,.0f}", ""),
    ]
    lines = [
        title,
        "",
        f"{result.date}, {result.machine}. `{result.command}` (usage scale {result.usage_scale:g}, "
        f"{result.usage_parts} usage parts; {result.account_days:,} account-days of history).",
        "",
        "| run | wall time | peak memory |",
        "|---|---:|---:|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        "| ratio | value | target |",
        "|---|---:|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in ratios),
        "",
        f"The floor agrees with the project on {agreement.agreeing:,} of {agreement.compared:,} sampled "
        f"account-days (score within 0.001, same status and band).",
        "",
    ]
    return "\n".join(lines)


def write_report(result: BenchResult, path: Path) -> str:
    """Replaces this size's section of `path` (or adds it) and returns the section."""
    section = render(result)
    existing = path.read_text() if path.exists() else HEADER
    heading = section.splitlines()[0].split(" (")[0]
    pattern = re.compile(rf"^{re.escape(heading)} \(.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    text = (
        pattern.sub(lambda _: section + "\n", existing)
        if pattern.search(existing)
        else existing.rstrip() + "\n\n" + section
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n")
    return section
