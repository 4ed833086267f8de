"""The short report `make run` prints: what was scored, how the portfolio splits, who needs help first."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb


def _table(headers: list[str], rows: list[tuple]) -> str:
    cells = [
        [
            ("" if value is None else f"{value:.1f}" if isinstance(value, float | Decimal) else str(value))
            for value in row
        ]
        for row in rows
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def render_summary(warehouse_path: Path) -> str:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        scores = "marts.account_health_scores"
        total, scored, churned, as_of, average = con.execute(
            f"select count(*), count(health_score), count(*) filter (where is_churned), max(as_of_date), "
            f"avg(health_score) filter (where not is_churned) from {scores}"
        ).fetchone()
        bands = con.execute(
            f"select coalesce(health_band, '(unscored)'), count(*), "
            f"round(100.0 * count(*) / sum(count(*)) over (), 1) "
            f"from {scores} where not is_churned group by 1 "
            f"order by min(coalesce(health_score, -1))"
        ).fetchall()
        lowest = con.execute(
            f"select account_id, account_name, segment, health_score, health_band, weakest_component, "
            f"weakest_component_score, csm_owner from {scores} "
            f"where not is_churned and health_score is not null order by health_score, account_id limit 10"
        ).fetchall()
    lines = [
        f"Health scores as of {as_of}: {scored} of {total} accounts scored "
        f"({churned} churned accounts scored on their last day).",
        f"Average health of current accounts: {average:.1f} / 100" if average is not None else "",
        "",
        "Current accounts by band:",
        _table(["band", "accounts", "share %"], bands),
        "",
        "Ten lowest current accounts:",
        _table(["account", "name", "segment", "score", "band", "weakest", "its score", "CSM"], lowest),
    ]
    return "\n".join(line for line in lines if line is not None)
