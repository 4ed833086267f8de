"""The README documents the source contract exactly as the ingestion enforces it, and shows what `make run`
really prints for the committed sample."""

import csv
import re

import pytest

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.contract_docs import READING_ORDER, render_contract_markdown
from orchestration.settings import REPO_ROOT


def test_readme_contract_section_matches_the_sources_yaml():
    readme = (REPO_ROOT / "README.md").read_text()
    assert render_contract_markdown() in readme, (
        "README.md is out of date: paste the output of `python -m orchestration.defs.ingestion.contract_docs`"
    )


def test_contract_names_the_seven_sources_and_their_columns():
    contracts = load_contracts()
    assert set(READING_ORDER) == set(contracts)
    assert contracts["accounts"].column_names == (
        "account_id",
        "account_name",
        "segment",
        "plan",
        "country",
        "arr",
        "currency",
        "seats",
        "contract_start_date",
        "renewal_date",
        "csm_owner",
        "lifecycle_stage",
        "contact_email",
        "parent_account_id",
    )
    assert contracts["milestones"].primary_key == ("account_id", "milestone")
    assert [c.name for c in contracts["accounts"].columns if c.personal_data] == ["contact_email"]


def _seed(name: str) -> list[dict[str, str]]:
    with (REPO_ROOT / "seeds" / f"{name}.csv").open() as f:
        return list(csv.DictReader(f))


def test_worked_example_follows_the_rules_and_the_seeds():
    """The worked example in docs/ is arithmetic a reader can redo: points from the normalisation rules,
    weights from the seeds, contributions = points x weight, and their sum is the score."""
    text = (REPO_ROOT / "docs" / "how_scores_are_computed.md").read_text()
    table = text.split("<!-- worked-example:begin -->")[1].split("<!-- worked-example:end -->")[0]
    rows = [
        [cell.strip(" `*") for cell in line.strip().strip("|").split("|")] for line in table.strip().splitlines()[2:]
    ]
    *measures, total = rows
    measure_defs = {row["measure"]: row for row in _seed("measures")}
    component_weight = {
        r["component"]: float(r["weight"]) for r in _seed("scorecard_components") if r["scorecard"] == "mid_market"
    }
    measure_weight = {
        r["measure"]: float(r["weight"]) for r in _seed("scorecard_measure_weights") if r["scorecard"] == "mid_market"
    }
    bands = _seed("measure_bands")

    contributions = 0.0
    for component, measure, value, normalisation, points, weight, contribution in measures:
        definition = measure_defs[measure]
        assert definition["component"] == component and definition["normalisation"] == normalisation
        value, points, weight, contribution = float(value), float(points), float(weight), float(contribution)
        if normalisation == "linear":
            floor, target = float(definition["floor_value"]), float(definition["target_value"])
            expected = min(max((value - floor) / (target - floor), 0), 1) * 100
            assert points == pytest.approx(expected, abs=0.05), measure
        elif normalisation == "bands":
            band = next(
                b
                for b in bands
                if b["measure"] == measure
                and (not b["lower_bound"] or value >= float(b["lower_bound"]))
                and (not b["upper_bound"] or value < float(b["upper_bound"]))
            )
            assert points == float(band["points"]), measure
        assert weight == pytest.approx(component_weight[component] * measure_weight[measure]), measure
        assert contribution == pytest.approx(points * weight, abs=0.005), measure
        contributions += contribution
    assert float(total[-2]) == pytest.approx(sum(float(r[5]) for r in measures))
    assert float(total[-1]) == pytest.approx(contributions, abs=0.001)
    assert f"**{float(total[-1]):.2f}**" in text


def _normalised(line: str) -> str:
    return " ".join(line.split())


def test_readme_example_output_is_what_make_run_prints_for_the_sample(sample_run):
    """Every line of the README's example output (column widths aside) appears in a real run's output; lines
    that depend on today's date, the run id or the path are left out."""
    readme = (REPO_ROOT / "README.md").read_text()
    example = readme.split("## What you get", 1)[1].split("```\n", 2)[1]
    run = sample_run.run
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    printed = {_normalised(line) for line in run.stdout.splitlines()}
    shown = [
        line
        for line in example.splitlines()
        if line.strip(" -") and line != "..." and not line.startswith("Run ") and "days old" not in line
    ]
    assert len(shown) >= 30
    missing = [line for line in shown if _normalised(line) not in printed]
    assert not missing, "README example output differs from `make run`:\n" + "\n".join(missing)


def test_readme_checks_table_counts_the_dbt_tests_the_example_run_shows():
    """The checks table states the number of dbt tests; the example output (checked against a real run above)
    states it too: the two must agree, so the table cannot drift when tests are added."""
    readme = (REPO_ROOT / "README.md").read_text()
    in_table = re.search(r"^\| dbt tests \((\d+)\) \|", readme, re.MULTILINE)
    in_example = re.search(r"^Checks: \d+ run, .*\((\d+) dbt tests, \d+ Python checks\)\.$", readme, re.MULTILINE)
    assert in_table and in_example, "README lost its checks table row or its example Checks line"
    assert in_table.group(1) == in_example.group(1)


def test_readme_lists_every_published_table():
    """BI users learn from the README's table list what the serving file holds: every published mart is in it."""
    from orchestration.defs.serving.publish import PUBLISHED_TABLES

    readme = (REPO_ROOT / "README.md").read_text()
    missing = [table for table in PUBLISHED_TABLES if f"marts.{table}`" not in readme and f"`{table}`" not in readme]
    assert missing == []
