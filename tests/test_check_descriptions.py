"""The sentences the Dagster UI shows for dbt's generic tests, and a seed's rows in place of its SQL."""

from orchestration.defs.dbt.descriptions import SEED_ROWS_SHOWN, generic_test_sentence, macro_doc, seed_contents


def test_generic_tests_read_as_sentences():
    assert generic_test_sentence("not_null", {"column_name": "score_date"}, "account_actions") == (
        "account_actions.score_date is never null."
    )
    assert generic_test_sentence(
        "accepted_values", {"column_name": "band", "values": ["red", "yellow", "green"]}, "account_health_scores"
    ) == ("account_health_scores.band is one of: red, yellow, green (nulls pass).")
    assert generic_test_sentence(
        "relationships", {"column_name": "measure", "to": "ref('measures')", "field": "measure"}, "measure_bands"
    ) == ("Every measure_bands.measure exists as measures.measure (nulls pass).")
    assert generic_test_sentence(
        "accepted_range", {"column_name": "weight", "min_value": 0, "max_value": 1}, "scorecard_components"
    ) == ("scorecard_components.weight lies between 0 and 1 (nulls pass).")
    assert generic_test_sentence("accepted_range", {"column_name": "window_days", "min_value": 1}, "measures") == (
        "measures.window_days is at least 1 (nulls pass)."
    )
    assert generic_test_sentence(
        "unique_combination", {"combination_of_columns": ["segment", "lifecycle_stage"]}, "scorecard_assignments"
    ) == ("Each combination of (segment, lifecycle_stage) occurs at most once in scorecard_assignments.")
    assert generic_test_sentence("expression_is_true", {"expression": "a  <=\n b"}, "t") == (
        "Every row of t satisfies: a <= b"
    )


def test_a_test_of_our_own_is_explained_by_its_macro_comment():
    doc = macro_doc("{#- Rows where the column lies outside\n    [min, max]. -#}\n{% test x(model) %}")
    assert doc == "Rows where the column lies outside [min, max]."
    assert generic_test_sentence("x", {"column_name": "c", "limit": 3}, "m", doc) == (
        "x on m.c (limit=3). It fails on: rows where the column lies outside [min, max]."
    )
    assert macro_doc("{% test x(model) %}") == ""


def test_seed_contents_are_a_table_cut_after_the_first_rows(tmp_path):
    seed = tmp_path / "bands.csv"
    seed.write_text("band,note\n" + "".join(f"b{i},a | b\n" for i in range(SEED_ROWS_SHOWN + 5)))
    shown = seed_contents(seed, "seeds/bands.csv")
    assert shown.startswith(f"#### Contents of seeds/bands.csv ({SEED_ROWS_SHOWN + 5} row(s))")
    assert "| band | note |\n|---|---|\n| b0 | a \\| b |" in shown
    assert f"| b{SEED_ROWS_SHOWN - 1} |" in shown and f"| b{SEED_ROWS_SHOWN} |" not in shown
    assert shown.endswith("_5 more row(s) in seeds/bands.csv_")
