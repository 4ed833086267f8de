"""Runs an analysis of dbt_project/analyses/ against the published scores: compiled by dbt (so `ref()` and the
macros resolve as in the models), run on a read-only connection to the serving file, printed as a table or
written to a CSV file. No DuckDB command line is needed.

    python -m orchestration.analyses                       lists the analyses
    python -m orchestration.analyses biggest_score_drops   runs one
    python -m orchestration.analyses account_history --var account_id=ACC-00042 --csv history.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from orchestration.settings import DBT_PROJECT_DIR, Settings, load_settings

ANALYSES_DIR = DBT_PROJECT_DIR / "analyses"


class AnalysisError(Exception):
    pass


def analysis_names() -> list[str]:
    return sorted(path.stem for path in ANALYSES_DIR.glob("*.sql"))


def question(name: str) -> str:
    """What the analysis answers: the first sentence of its opening comment."""
    opening = []
    for line in (ANALYSES_DIR / f"{name}.sql").read_text().splitlines():
        if not line.startswith("--"):
            break
        opening.append(line.removeprefix("--").strip())
    text = " ".join(opening)
    ends = [end for end in (text.find(": "), text.find(". "), text.find("? ")) if end > 0]
    return text[: min(ends) + 1].rstrip(":") if ends else text


def compile_analyses(names: list[str], dbt_vars: dict[str, str] | None = None) -> dict[str, str]:
    """The analyses' SQL as dbt compiles them (references as "<database>"."marts"."<table>"), by name."""
    from dbt.cli.main import dbtRunner

    if unknown := sorted(set(names) - set(analysis_names())):
        raise AnalysisError(f"no analysis {', '.join(unknown)}; there are: {', '.join(analysis_names())}")
    # No cache of the warehouse's tables: compiling never opens the warehouse, which a refresh may hold.
    args = ["--log-level", "none", "compile", "--no-populate-cache", "--select", *names]
    args += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    result = dbtRunner().invoke(args)
    if not result.success or not result.result:
        raise AnalysisError(f"dbt could not compile {', '.join(names)}: {result.exception or 'see dbt_project/logs'}")
    return {node_result.node.name: node_result.node.compiled_code for node_result in result.result.results}


def connect_read_only(serving: Path, database: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the serving file under `database`, the name the compiled SQL refers to (the
    warehouse file's name), so the analyses read the published tables, never the working warehouse."""
    if not serving.is_file():
        raise AnalysisError(f"no serving file at {serving}: run `make run` first")
    con = duckdb.connect()
    con.execute(f"attach '{serving}' as \"{database}\" (read_only)")
    con.execute("set TimeZone = 'UTC'")
    return con


def run_analysis(name: str, settings: Settings, dbt_vars: dict[str, str] | None = None) -> duckdb.DuckDBPyRelation:
    """The analysis's result as a relation on a fresh read-only connection to the serving file."""
    sql = compile_analyses([name], dbt_vars)[name]
    return connect_read_only(settings.serving_path, settings.warehouse_path.stem).sql(sql)


def _parse_var(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.analyses", description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help="analysis (file name without .sql); none lists them")
    parser.add_argument("--var", type=_parse_var, action="append", default=[], help="NAME=VALUE for var() (repeat)")
    parser.add_argument("--csv", type=Path, help="write the result to this CSV file instead of printing it")
    parser.add_argument("--rows", type=int, default=50, help="rows to print (default 50)")
    args = parser.parse_args(argv)
    if not args.name:
        for name in analysis_names():
            print(f"{name:30} {question(name)}")
        return 0
    try:
        result = run_analysis(args.name, load_settings(), dict(args.var))
    except AnalysisError as error:
        print(error, file=sys.stderr)
        return 1
    if args.csv:
        result.write_csv(str(args.csv))
        print(f"{args.csv}: {len(result.fetchall())} rows")
    else:
        result.show(max_rows=args.rows, max_width=200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
