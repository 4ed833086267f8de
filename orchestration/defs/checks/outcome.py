"""What a Python check found, independent of Dagster, so the logic can be tested on plain tables."""

from dataclasses import dataclass, field

# Metadata lists at most this many offending items (files, rows): enough to act on, small enough to read.
MAX_LISTED = 10


@dataclass(frozen=True)
class Outcome:
    passed: bool
    summary: str
    metadata: dict = field(default_factory=dict)
