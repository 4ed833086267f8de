"""A readable account of the rows a load set aside: how many per column and rule, with the first examples."""

from __future__ import annotations

import duckdb

from orchestration.defs.ingestion.raw_store import SourceLoad

EXAMPLES_PER_RULE = 3


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def rejection_summary(con: duckdb.DuckDBPyConnection, source: str, result: SourceLoad) -> str:
    """One line per column and rule with its count, then its first examples (file, line, value, reason).
    Reads the rejected rows of the files as they stand after `result`, committed or not."""
    files = [f.rejected_file for f in result.files if f.rejected_file]
    parts = []
    if files:
        listed = "[" + ", ".join(_literal(f) for f in files) + "]"
        parts.append(
            "select landed_file, source_row, location, column_name, landed_value, reason, rule "
            f"from read_parquet({listed}, union_by_name = true)"
        )
    has_unknown = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'unknown_rows' and temporary"
    ).fetchone()[0]
    if has_unknown:
        parts.append(
            "select landed_file, source_row, "
            "case when landed_file like '%.csv' then 'line ' else 'row ' end || source_row as location, "
            "'account_id' as column_name, account_id as landed_value, "
            "'unknown account: no account ' || account_id || ' in the accounts export' as reason, "
            f"'unknown account' as rule from unknown_rows where source = {_literal(source)}"
        )
    if not parts:
        return ""
    rows = con.execute(f"""
        with rejected as ({" union all ".join(parts)}),
        ranked as (
            select *,
                count(*) over (partition by column_name, rule) as rule_count,
                row_number() over (partition by column_name, rule order by landed_file, source_row) as example
            from rejected
        )
        select column_name, rule, rule_count, landed_file, location, landed_value, reason
        from ranked
        where example <= {EXAMPLES_PER_RULE}
        order by rule_count desc, column_name, rule, example
    """).fetchall()
    lines, current = [], None
    for column, rule, count, file, location, value, reason in rows:
        if (column, rule) != current:
            current = (column, rule)
            lines.append(f"- {count:,} x {column}: {rule}")
        shown = "" if value is None else f" (value {value!r})"
        lines.append(f"    {file}, {location}: {reason}{shown}")
    if lines:
        lines.append("  all of them: raw.rejected_rows in the warehouse, marts.rejected_rows in the serving file")
    return "\n".join(lines)
