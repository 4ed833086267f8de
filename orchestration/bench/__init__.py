"""Benchmarks of the full refresh; the floor is one hand-written query computing the same scores."""
