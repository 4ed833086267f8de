"""The dbt SQL stays portable to Spark (dbt-spark): no DuckDB-only syntax outside duckdb__ macros, and
no date arithmetic that dbt-spark would read differently. A static guard; the engines differ in ways a
DuckDB run cannot show."""

import re

import pytest
import yaml

from orchestration.settings import DBT_PROJECT_DIR

DUCKDB_ONLY = {
    r"::\s*\w": "'::' casts: use cast(x as type)",
    r"\bqualify\b": "QUALIFY: filter a row_number() in an outer query",
    r"\bunnest\s*\(|\brange\s*\(|\bgenerate_series\s*\(": "generated rows: use the integers() macro or a values list",
    r"\bread_(csv|parquet|json)\w*\s*\(": "reading files in SQL: sources are loaded by the ingestion assets",
    r"\*\s*(exclude|replace)\s*\(": "select * exclude/replace: list the columns",
    r"\bstring_agg\s*\(|\blist_\w+\s*\(|\blist\s*\(": "DuckDB aggregates: use dbt.listagg or ordered_listagg",
    r"\bdate_diff\s*\(|\bdate_add\s*\(|\bdate_sub\s*\(": "date functions: use dbt.datediff / dbt.dateadd",
    r"->(?=[^']*(?:'[^']*'[^']*)*$)|\blambda\b": "lambdas: not in Spark SQL",
    r"'\\{1,2}n'": "'\\n' is a line break on Spark but two characters on DuckDB: use chr(10)",
}
# dbt-spark's dateadd multiplies the amount as written: 'n + 1' years becomes 'n + 1*12' months.
UNBRACKETED_DATEADD = re.compile(r"dateadd\(\s*'(\w+)',\s*'([^'(][^']*[-+*/][^']*)'", re.S)
DUCKDB_MACRO = re.compile(r"{%-?\s*macro\s+duckdb__.*?{%-?\s*endmacro\s*-?%}", re.S)
# Jinja statements ({% for i in range(3) %}) are Python-like templating, not SQL either engine runs.
JINJA_STATEMENT = re.compile(r"{%.*?%}", re.S)


def portability_problems(text: str) -> list[str]:
    text = DUCKDB_MACRO.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    text = re.sub(r"--[^\n]*|{#.*?#}", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    text = JINJA_STATEMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    checks = [(re.compile(pattern, re.I), reason) for pattern, reason in DUCKDB_ONLY.items()]
    checks.append((UNBRACKETED_DATEADD, "bracket the dateadd amount, '(...)'"))
    return [
        f"line {text.count(chr(10), 0, match.start()) + 1}: {reason}"
        for pattern, reason in checks
        for match in pattern.finditer(text)
    ]


def sql_texts() -> dict[str, str]:
    """Every piece of SQL dbt runs: model, macro, test and analysis files, and unit-test fixtures given as SQL."""
    texts = {}
    for folder in ("models", "macros", "tests", "analyses"):
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*")):
            name = str(path.relative_to(DBT_PROJECT_DIR))
            if path.suffix == ".sql":
                texts[name] = path.read_text()
            elif path.suffix == ".yml":
                for unit_test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
                    for number, fixture in enumerate(unit_test.get("given", [])):
                        if fixture.get("format") == "sql":
                            texts[f"{name}: {unit_test['name']} given {number + 1}"] = fixture["rows"]
    return texts


def test_project_sql_is_portable():
    texts = sql_texts()
    assert any(": " in name for name in texts), "the unit-test SQL fixtures are checked too"
    problems = {name: found for name, text in texts.items() if (found := portability_problems(text))}
    assert problems == {}


@pytest.mark.parametrize(
    "sql",
    [
        "select score::double from t",
        "select * from t qualify row_number() over (partition by a order by b) = 1",
        "select unnest(range(0, 101)) as n",
        "select * from read_parquet('x.parquet')",
        "select * exclude (a) from t",
        "select string_agg(a, ',') from t",
        "select date_diff('day', a, b) from t",
        "select list_transform(xs, x -> x + 1) from t",
        "select 'a -> b' as arrow, transform(xs, x -> x + 1) from t",  # a lambda after a string with an arrow
        "select {{ dbt.listagg('a', \"'\\n'\") }} from t",
        "select {{ dbt.dateadd('year', 'floor(d / 365.25) + 1', 'start_date') }} from t",
    ],
)
def test_duckdb_only_sql_is_reported(sql):
    assert portability_problems(sql)


def test_duckdb_macros_comments_and_bracketed_amounts_are_allowed():
    sql = """
    {% macro duckdb__median(expression) %} median({{ expression }})::double {% endmacro %}
    -- a comment may say string_agg or qualify
    select {{ dbt.dateadd('day', '(1 - ' ~ days ~ ')', end_date) }}, {{ dbt.dateadd('day', -7, 'd') }}
    {%- for rank in range(1, 4) %}, 'before -> after' as arrow_{{ rank }}{% endfor %}
    """
    assert portability_problems(sql) == []
