"""Deterministic sample data: a simulated B2B SaaS customer base written as landing files."""

from orchestration.sample_data.simulation import simulate
from orchestration.sample_data.writer import write_landing

__all__ = ["simulate", "write_landing"]
