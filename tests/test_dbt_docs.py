"""`make docs`: dbt docs generate on a fresh clone needs no environment, and the exposures name the marts."""

import json

import pytest

from orchestration.docs import generate
from orchestration.settings import DBT_PROJECT_DIR

# The dashboard pages and the marts each reads (the dashboard's pages, orchestration/dashboard).
PAGES = {
    "portfolio_overview": {"portfolio_daily"},
    "at_risk_accounts": {"account_health_scores", "account_actions", "health_alerts"},
    "account_drill_down": {"account_health_history", "fct_health_score_contributions", "account_score_changes"},
    "benchmarks": {"portfolio_benchmarks"},
    "account_hierarchies": {"parent_account_health"},
}


@pytest.fixture(scope="module")
def docs(tmp_path_factory, dbt_manifest):
    """The docs as `make docs` writes them on a fresh clone: the settings' defaults, no warehouse file yet."""
    root = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as env:
        for name in ("HEALTHSCORE_SERVING", "HEALTHSCORE_RAW_DIR", "HEALTHSCORE_MEMORY_LIMIT", "HEALTHSCORE_SPILL_DIR"):
            env.delenv(name, raising=False)
        # Where a fresh clone's warehouse would be: nothing there yet.
        env.setenv("HEALTHSCORE_WAREHOUSE", str(root / "warehouse" / "healthscore.duckdb"))
        target = generate(target_path=root / "target")
    return root, target


def test_docs_generate_without_a_warehouse_and_leave_none_behind(docs):
    root, target = docs
    assert (target / "index.html").is_file() and (target / "catalog.json").is_file()
    assert not (root / "warehouse").exists()


def test_exposures_name_the_dashboard_pages_and_the_marts_they_read(docs):
    _, target = docs
    manifest = json.loads((target / "manifest.json").read_text())
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    for page, marts in PAGES.items():
        assert exposures[page]["type"] == "dashboard"
        read = {node.split(".")[-1] for node in exposures[page]["depends_on"]["nodes"]}
        assert marts <= read, (page, read)
    for exposure in exposures.values():
        assert exposure["depends_on"]["nodes"], exposure["name"]
        for node in exposure["depends_on"]["nodes"]:
            assert manifest["nodes"][node]["schema"] == "marts", (exposure["name"], node)
    assert DBT_PROJECT_DIR.joinpath("models", "marts", "_dashboard__exposures.yml").is_file()
