"""The Python checks' room. Data rules live once, as dbt tests (dbt_project/tests, the YAML files) that Dagster
runs as asset checks; Python checks only what dbt cannot see. The shared plumbing is here (outcome.py: what
a check found; results.py: turning it into a Dagster result), with the benchmark warnings on the portfolio
mart (benchmarks.py). Checks on what Python itself builds sit beside it (ingestion/checks.py: freshness
against the clock, stray landing files); the publish gate is serving/assets.py."""
