"""The refresh without Dagster, for the benchmark's measure of orchestration overhead: the same loader, the
same `dbt build`, the backtest, the dbt step after it, the same Python checks, the same publication, alert
delivery and CRM export, called one after another.

python -m orchestration.bench.plain    (paths from the same environment variables as `make run`)
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import duckdb

from orchestration.defs.alerts.delivery import deliver_alerts, load_delivery_settings
from orchestration.defs.backtest.assets import backtest_dir
from orchestration.defs.backtest.runs import propose_weights, run_backtest
from orchestration.defs.checks.benchmarks import BENCHMARKS
from orchestration.defs.dbt.assets import AFTER_BACKTEST, DbtBuildConfig, after_backtest_args, dbt_build_args
from orchestration.defs.dbt.project import SEEDS_DIR, dbt_project
from orchestration.defs.exports.crm import export_crm_properties
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.freshness import load_expectations, source_freshness
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import ACCOUNT_SOURCE, RawStore
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.serving.publish import publish
from orchestration.settings import load_settings


def main() -> int:
    settings = load_settings()
    warehouse = WarehouseResource(
        path=str(settings.warehouse_path),
        raw_dir=str(settings.raw_dir),
        memory_limit=settings.memory_limit,
        spill_dir=str(settings.spill_dir),
    )
    contracts = load_contracts()
    rules = load_rules()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with warehouse.connect() as con:
        store = RawStore(con, settings.raw_dir)
        for contract in sorted(contracts.values(), key=lambda c: c.name != ACCOUNT_SOURCE):
            files = find_landing_files(settings.landing_dir, contract.name)
            result = store.load(contract, files, settings.landing_dir, rules, now)
            if result.errors or result.rejected_share > rules.max_rejected_share(contract.name):
                print(f"{contract.name} not loaded: {result.errors or result.rejected_share}", file=sys.stderr)
                return 1
            store.commit(contract, result, now)
    dbt_command = ["--project-dir", str(dbt_project.project_dir), "--profiles-dir", str(dbt_project.profiles_dir)]
    # Everything but what applies the backtest's fit: `--exclude test_type:unit` gains the churn-risk tag.
    args = dbt_build_args(DbtBuildConfig(), warehouse)
    args.insert(args.index("test_type:unit") + 1, AFTER_BACKTEST)
    build = subprocess.run(["dbt", *args, *dbt_command], check=False)
    if build.returncode != 0:
        return build.returncode
    with warehouse.connect() as con:
        run_backtest(con, backtest_dir(warehouse))
        propose_weights(con, SEEDS_DIR, backtest_dir(warehouse) / "weight_proposal")
    after = subprocess.run(
        ["dbt", *after_backtest_args(warehouse), "--select", AFTER_BACKTEST, *dbt_command], check=False
    )
    if after.returncode != 0:
        return after.returncode
    # The Python checks only warn (the blocking rules are the dbt tests above); they run for their cost.
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for _, function in BENCHMARKS.values():
            function(con)
        for expectation in load_expectations().values():
            source_freshness(con, expectation, dt.date.today())
    rows = publish(settings.warehouse_path, settings.serving_path, "plain", settings.memory_limit, settings.spill_dir)
    print(f"published {rows['account_health_history']:,} account-days")
    with warehouse.connect() as con:
        print(deliver_alerts(con, load_delivery_settings(con), os.environ).describe())
        exported = export_crm_properties(con, settings.crm_export_dir, dt.datetime.now(dt.UTC))
    print(f"CRM export: {exported.exported} of {exported.accounts} account(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
