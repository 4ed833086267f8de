"""How strictly each source is loaded, from the seeds users edit: seeds/source_load_limits.csv (the share of
rejected rows a source may have before it fails, and how far in the future an event may lie) and
seeds/value_mappings.csv (the codes an export uses for the contract's allowed values, e.g. a German
helpdesk's 'Hoch' for 'high'). Both are documented in seeds/_scorecard__seeds.yml."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings import REPO_ROOT

SEEDS_DIR = REPO_ROOT / "seeds"
DEFAULT_SOURCE = "default"


@dataclass(frozen=True)
class SourceLimits:
    max_rejected_share: float
    future_tolerance_hours: float


@dataclass(frozen=True)
class LoadRules:
    limits: dict[str, SourceLimits]
    value_mappings: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def limits_for(self, source: str) -> SourceLimits:
        return self.limits.get(source) or self.limits[DEFAULT_SOURCE]

    def max_rejected_share(self, source: str) -> float:
        return self.limits_for(source).max_rejected_share

    def future_tolerance(self, source: str) -> dt.timedelta:
        return dt.timedelta(hours=self.limits_for(source).future_tolerance_hours)

    def mappings(self, source: str, column: str) -> dict[str, str]:
        """Landed value (lower case, trimmed) to contract value, for one column."""
        return self.value_mappings.get((source, column), {})


def load_rules(seeds_dir: Path = SEEDS_DIR) -> LoadRules:
    with (seeds_dir / "source_load_limits.csv").open(newline="") as f:
        limits = {
            row["source"]: SourceLimits(float(row["max_rejected_share"]), float(row["future_tolerance_hours"]))
            for row in csv.DictReader(f)
        }
    if DEFAULT_SOURCE not in limits:
        raise ValueError(f"seeds/source_load_limits.csv needs a row for source '{DEFAULT_SOURCE}'")
    mappings: dict[tuple[str, str], dict[str, str]] = {}
    with (seeds_dir / "value_mappings.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            key = (row["source"], row["column_name"])
            mappings.setdefault(key, {})[row["landed_value"].strip().lower()] = row["contract_value"]
    return LoadRules(limits, mappings)
