"""The README documents the source contract exactly as the ingestion enforces it."""

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
    )
    assert contracts["milestones"].primary_key == ("account_id", "milestone")
    assert [c.name for c in contracts["accounts"].columns if c.personal_data] == ["contact_email"]
