"""Comment sentiment: the scorer on German and English comments, the columns the loader derives, staging's tests
on them, the measure with weight 0, and comments that never leave staging."""

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import textblob_de.sentiments

from orchestration.defs.ingestion import comment_sentiment
from orchestration.defs.ingestion.comment_sentiment import score_comment, score_comments
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.ingestion.load_rules import load_rules
from orchestration.defs.ingestion.raw_store import RawStore
from orchestration.settings import REPO_ROOT
from tests.conftest import copy_project, dbt, make_raw_editable
from tests.test_dbt_checks import CONFIG_SELECTION, failing_tests

CONTRACTS = load_contracts()
NOW = dt.datetime(2026, 11, 1, 12, 0)

# --- the scorer --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "sign"),
    [
        ("Great product, the reports save us hours every week.", "en", 1),
        ("We are very unhappy with the product.", "en", -1),
        ("This release is awful, nothing works.", "en", -1),
        ("Sehr zufrieden, schneller Support!", "de", 1),
        ("Tolles Produkt, einfach zu bedienen.", "de", 1),
        ("Support antwortet zu langsam.", "de", -1),
        ("Das ist nicht gut.", "de", -1),  # the negation counts
        ("Leider sehr schlechte Erfahrungen mit dem Support.", "de", -1),
    ],
)
def test_german_and_english_comments_get_their_language_and_the_right_sign(text, language, sign):
    scored = score_comment(text)
    assert scored.language == language
    assert scored.sentiment * sign > 0
    assert -1 <= scored.sentiment <= 1 and scored.sentiment == scored.sentiment.quantize(Decimal("0.0001"))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Works reliably, good onboarding.", "en"),  # no function word: English lexicon words decide
        ("Schlecht", "de"),  # a word only the German lexicon knows
        ("Größe", "de"),  # no known word: the umlaut
        (":)", "en"),  # nothing to vote on: English, whose analyzer reads emoticons
        ("Zürich: the team is great", "en"),  # an umlaut is one vote, outvoted by English words
    ],
)
def test_the_language_rule_breaks_ties_as_documented(text, language):
    assert score_comment(text).language == language


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_a_missing_or_blank_comment_gets_no_language_and_no_sentiment(text):
    assert score_comment(text) is None


def test_each_distinct_comment_is_scored_once_and_the_analyzers_are_built_once(monkeypatch):
    built = []

    class CountingAnalyzer(textblob_de.sentiments.PatternAnalyzer):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    scored = []
    original = comment_sentiment.score_comment
    monkeypatch.setattr(textblob_de.sentiments, "PatternAnalyzer", CountingAnalyzer)
    monkeypatch.setattr(comment_sentiment, "score_comment", lambda text: scored.append(text) or original(text))
    comment_sentiment._german_analyzer.cache_clear()
    try:
        texts = ["Gut, aber teuer.", "Gut, aber teuer.", None, "Sehr gut.", "Sehr gut.", "Nicht gut."]
        results = score_comments(texts)
        score_comments(["Schlecht."])
    finally:
        comment_sentiment._german_analyzer.cache_clear()
    assert sorted(results) == ["Gut, aber teuer.", "Nicht gut.", "Sehr gut."]
    assert scored == ["Gut, aber teuer.", "Sehr gut.", "Nicht gut.", "Schlecht."]
    assert built == [1], "one German analyzer for the process"


def test_scoring_downloads_nothing_and_needs_no_network(tmp_path):
    """With an empty home, no NLTK data and every socket refused, both languages score: the lexicons come with
    the packages, and NLTK's punkt (which would download) is never asked for."""
    home = tmp_path / "home"
    home.mkdir()
    script = """
import socket, nltk
def refuse(*args, **kwargs):
    raise RuntimeError("network access")
socket.socket.connect = socket.create_connection = refuse
nltk.download = refuse
from orchestration.defs.ingestion.comment_sentiment import score_comment
print(score_comment("Support antwortet zu langsam."), score_comment("Great product."))
"""
    env = {"HOME": str(home), "NLTK_DATA": str(tmp_path / "no_nltk_data"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "language='de'" in run.stdout and "language='en'" in run.stdout
    assert list(home.iterdir()) == [], "nothing written to the home directory"
    assert not (tmp_path / "no_nltk_data").exists()


# --- the loader --------------------------------------------------------------------------------------------

SURVEYS = (
    "response_id,account_id,respondent_email,responded_at,survey_type,score,comment\n"
    "R1,A1,,2026-10-01T10:00:00Z,nps,9,Great tool; the reports save us hours.\n"
    'R2,A1,,2026-10-02T10:00:00Z,nps,3,"Support antwortet zu langsam, das ist nicht gut."\n'
    "R3,A1,,2026-10-03T10:00:00Z,csat,4,\n"
    "R4,A1,,2026-10-04T10:00:00Z,csat,5,   \n"
    "R5,A1,,2026-10-05T10:00:00Z,nps,12,Score out of range but a fine comment.\n"
)


@pytest.fixture
def landing(tmp_path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "account_id,account_name,segment,arr,currency,seats,contract_start_date\nA1,Alpha,SMB,1,EUR,3,2026-01-01\n"
    )
    (folder / "survey_responses.csv").write_text(SURVEYS)
    return folder


def load(con, landing: Path) -> None:
    store = RawStore(con, landing.parent / "raw")
    for source in ("accounts", "survey_responses"):
        result = store.load(CONTRACTS[source], find_landing_files(landing, source), landing, load_rules(), NOW)
        assert not result.errors, result.errors
        store.commit(CONTRACTS[source], result, NOW)


def test_the_loader_stores_language_and_sentiment_next_to_the_comment(con, landing):
    load(con, landing)
    rows = con.execute(
        "select response_id, _comment_language, _comment_sentiment from raw.survey_responses order by 1"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("R1", "en"), ("R2", "de"), ("R3", None), ("R4", None)]
    assert rows[0][2] > 0 > rows[1][2] and rows[2][2] is None and rows[3][2] is None
    types = dict(con.execute("select column_name, column_type from (describe raw.survey_responses)").fetchall())
    assert (types["_comment_language"], types["_comment_sentiment"]) == ("VARCHAR", "DECIMAL(5,4)")
    # Only the survey source has them.
    assert "_comment_language" not in [row[0] for row in con.execute("describe raw.accounts").fetchall()]


def test_a_source_without_files_has_the_derived_columns_too(con, landing):
    (landing / "survey_responses.csv").unlink()
    load(con, landing)
    types = dict(con.execute("select column_name, column_type from (describe raw.survey_responses)").fetchall())
    assert (types["_comment_language"], types["_comment_sentiment"]) == ("VARCHAR", "DECIMAL(5,4)")


def test_files_stored_before_comment_sentiment_existed_are_read_again(con, landing):
    load(con, landing)
    raw_file = con.execute("select raw_file from raw.landed_files where source = 'survey_responses'").fetchone()[0]
    con.execute(
        f"copy (select * exclude (_comment_language, _comment_sentiment) from read_parquet('{raw_file}')) "
        f"to '{raw_file}'"
    )
    store = RawStore(con, landing.parent / "raw")
    files = find_landing_files(landing, "survey_responses")
    result = store.load(CONTRACTS["survey_responses"], files, landing, load_rules(), NOW)
    assert [f.is_new for f in result.files] == [True]


# --- a refreshed portfolio -----------------------------------------------------------------------------------


def test_the_derived_columns_reach_staging(refreshed):
    assert refreshed.result.success
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        counts = con.execute("""
            select
                count(*) filter (where trim(comment) <> ''),
                count(*) filter (where trim(comment) <> '' and _comment_language in ('de', 'en')
                    and _comment_sentiment between -1 and 1),
                count(*) filter (where coalesce(trim(comment), '') = '' and _comment_language is null
                    and _comment_sentiment is null),
                count(*) filter (where coalesce(trim(comment), '') = ''),
                count(distinct _comment_language)
            from raw.survey_responses
        """).fetchone()
        assert counts[0] > 0 and counts[0] == counts[1] and counts[2] == counts[3] and counts[4] == 2, counts
        differing = con.execute("""
            select count(*)
            from staging.stg_surveys__survey_responses as staged
            inner join raw.survey_responses as raw using (response_id)
            where staged.comment_language is distinct from raw._comment_language
               or staged.comment_sentiment is distinct from raw._comment_sentiment
        """).fetchone()[0]
        assert differing == 0


def _text_columns(con, database: str, schemas: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    return con.execute(
        "select database_name, schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = ? and list_contains(?, schema_name) and data_type = 'VARCHAR'",
        [database, list(schemas)],
    ).fetchall()


def test_no_comment_reaches_intermediate_or_the_marts(refreshed):
    """No column after staging is a comment, and no text value of any table or view after staging, in the
    warehouse or the serving file, contains a comment that was landed."""
    serving = refreshed.warehouse.parent / "serving" / "healthscore.duckdb"
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        comments = [
            text
            for (text,) in con.execute(
                "select distinct comment from raw.survey_responses where length(trim(comment)) > 5"
            ).fetchall()
        ]
        assert comments
        warehouse = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach '{serving}' as serving (read_only)")
        places = _text_columns(con, warehouse, ("intermediate", "marts", "scorecard"))
        places += _text_columns(con, "serving", ("marts",))
        assert {(database, schema) for database, schema, _, _ in places} >= {
            (warehouse, "intermediate"),
            (warehouse, "marts"),
            ("serving", "marts"),
        }
        assert [place for place in places if place[3] in ("comment", "response_comment")] == []
        condition = " or ".join("contains(value, ?)" for _ in comments)
        found = [
            ".".join(place)
            for place in places
            if con.execute(
                f'select count(*) from (select "{place[3]}" as value from "{place[0]}"."{place[1]}"."{place[2]}") '
                f"where {condition}",
                comments,
            ).fetchone()[0]
        ]
        assert found == []


def test_no_model_after_staging_selects_the_comment(dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text())
    selecting = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and "/staging/" not in node["original_file_path"]
        # `comment` or `response_comment` as a word, outside SQL comments; comment_sentiment is a number.
        and re.search(r"\b(response_)?comment\b", re.sub(r"--[^\n]*", "", node["raw_code"]))
    ]
    assert selecting == []


def test_the_measure_is_in_the_contributions_with_weight_0_and_changes_no_score(refreshed):
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        rows, valued, weights, contributions, lowest, highest = con.execute("""
            select count(*), count(measure_value), list(distinct scorecard_weight), list(distinct contribution),
                min(measure_value), max(measure_value)
            from marts.fct_health_score_contributions
            where measure = 'comment_sentiment'
        """).fetchone()
        days = con.execute("select count(*) from marts.account_health_history").fetchone()[0]
        assert rows == days and valued > 0
        assert -1 <= lowest < highest <= 1
        assert weights == [0] and contributions == [0]
        effective = con.execute(
            "select count(*) from marts.fct_health_score_contributions "
            "where measure = 'comment_sentiment' and effective_weight <> 0"
        ).fetchone()[0]
        assert effective == 0
        # Scores are the contributions plus the cap adjustment; without this measure's they are the same.
        differing = con.execute("""
            select count(*)
            from marts.account_health_history as history
            inner join (
                select account_id, score_date, sum(contribution) as others
                from marts.fct_health_score_contributions
                where measure <> 'comment_sentiment'
                group by all
            ) as others using (account_id, score_date)
            where history.health_score <> others.others + coalesce(history.cap_adjustment, 0)
        """).fetchone()[0]
        assert differing == 0
        assert (
            con.execute(
                "select count(*) from marts.account_health_history where top_driver = 'comment_sentiment'"
            ).fetchone()[0]
            == 0
        )


# --- the dbt tests fail on data that breaks them -------------------------------------------------------------


def test_staging_tests_fail_on_a_wrong_language_or_sentiment(refreshed, tmp_path):
    warehouse = tmp_path / "corrupt.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        make_raw_editable(con, "survey_responses")
        ids = [
            response_id
            for (response_id,) in con.execute(
                "select response_id from raw.survey_responses where _comment_language is not null order by 1 limit 3"
            ).fetchall()
        ]
        con.execute("update raw.survey_responses set _comment_language = 'fr' where response_id = ?", [ids[0]])
        con.execute("update raw.survey_responses set _comment_sentiment = 1.5 where response_id = ?", [ids[1]])
        con.execute("update raw.survey_responses set _comment_sentiment = null where response_id = ?", [ids[2]])
    project = copy_project(tmp_path)
    result = dbt(["test", "--select", "stg_surveys__survey_responses"], project, warehouse)
    assert result.returncode != 0
    assert sorted(failing_tests(result)) == [
        "accepted_range_stg_surveys__survey_responses_comment_sentiment__1___1",
        "accepted_values_stg_surveys__survey_responses_comment_language__de__en",
        "expression_is_true_stg_surveys__survey_responses__comment_language_is_null_comment_sentiment_is_null_",
    ], result.stdout


def test_an_unregistered_measure_fails_the_configuration_tests(tmp_path):
    project = copy_project(tmp_path)
    families = project / "macros" / "measure_families.sql"
    families.write_text(families.read_text().replace(", 'comment_sentiment'", ""))
    weights = project.parent / "seeds" / "scorecard_measure_weights.csv"
    weights.write_text(
        "".join(line for line in weights.read_text().splitlines(True) if line != "enterprise,comment_sentiment,0.0\n")
    )
    result = dbt(["build", *CONFIG_SELECTION], project, tmp_path / "w.duckdb")
    assert result.returncode != 0
    assert {"measures_are_implemented", "scorecards_weigh_every_measure"} <= set(failing_tests(result)), result.stdout


def test_the_unit_test_pins_the_average_of_scored_comments(refreshed, tmp_path):
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    project = copy_project(tmp_path)
    selection = ["test", "--select", "int_feedback_measures_computed,test_type:unit"]
    shipped = dbt(selection, project, warehouse)
    assert shipped.returncode == 0, shipped.stdout[-3000:]
    model = project / "models" / "intermediate" / "measures" / "int_feedback_measures_computed.sql"
    original = model.read_text()
    # Answers without a comment counted as neutral comments.
    model.write_text(original.replace("case when comment_sentiment is not null then 1 else 0 end", "1"))
    assert model.read_text() != original
    result = dbt(selection, project, warehouse)
    assert result.returncode != 0
    assert failing_tests(result) == [
        "int_feedback_measures_computed::comment_sentiment_averages_the_scored_comments_in_the_window"
    ]
