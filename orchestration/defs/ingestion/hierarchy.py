"""The account hierarchy of one landed file: every parent is another row of the same file, and no chain of
parents returns to where it started.

Like a CRM (Salesforce refuses to save an account whose ParentId leads back to it), the loader keeps the
hierarchy a tree. The rules, applied to the rows that met the contract otherwise:
- an account that is its own parent is set aside by the contract's row rule (`parent_account_id <> account_id`);
- every account on a cycle (A -> B -> C -> A) is set aside with rule `parent cycle`: the file does not say which
  link is wrong, as with conflicting duplicates. Each row's value is its parent, so the listing of the rows set
  aside shows the chain; the reason names no other account, so that erasing one leaves no trace in another's;
- an account whose parent is not a row of the file that loads (a holding company that is no customer and not
  exported, an account set aside or erased) loads without a parent, and the load reports it with file, line
  and the missing parent: dropping a paying customer for a fact about another record would lose its scores.
Judged before personal data is protected (personal_data.py), so rows on a cycle keep the erasure keys of the
account they are about, and a parent erased on request is cleared there as a value. Depth is not limited here:
the roll-up bounds it (seeds/hierarchy_settings.csv) and a dbt test guards the bound.

Judging one file on its own keeps the rule stable (a file's verdict never changes) and, where exports come in
parts, no cycle can form across files: each account's latest row points into the file it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.defs.ingestion.contract import SourceContract

CYCLE_RULE = "parent cycle"
UNKNOWN_PARENT_REASON = "parent {parent} is not an account of this file that loads: loaded without a parent"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class HierarchyOutcome:
    rows_on_cycles: int = 0
    unknown_parents: tuple[str, ...] = ()
    """One message per row whose parent is not in the file: `<file>, line <n>: parent X is not ...`."""


def find_cycles(parents: dict[str, str]) -> list[list[str]]:
    """The cycles of a child -> parent mapping, each as the list of its members in parent order, starting at
    its smallest key. Keys that merely lead into a cycle are not on it."""
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    cycles = []
    for start in sorted(parents):
        path, node = [], start
        while node in parents and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parents[node]
        if state.get(node) == 1:
            cycle = path[path.index(node) :]
            first = cycle.index(min(cycle))
            cycles.append(cycle[first:] + cycle[:first])
        for visited in path:
            state[visited] = 2
    return cycles


def judge_hierarchy(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, display: str, unit: str
) -> HierarchyOutcome:
    """Applies the rules above to the temp table `checked_file` (landing.py): rows on a cycle get a problem,
    parents missing from the file are cleared. `unit` is 'line' (CSV) or 'row' (Parquet)."""
    column = contract.parent_column
    if column is None:
        return HierarchyOutcome()
    key, parent = _quote(column.parent_key), _quote(column.name)
    links = con.execute(
        f"select distinct {key}, {parent} from checked_file where len(_problems) = 0 and {parent} is not null"
    ).fetchall()
    if not links:
        return HierarchyOutcome()
    cycles = find_cycles(dict(links))
    rows_on_cycles = 0
    for cycle in cycles:
        reason = (
            f"the chain of parents returns to this account after {len(cycle)} step(s), a cycle; "
            "none of the accounts on it is loaded"
        )
        rows_on_cycles += con.execute(
            f"""
            update checked_file
            set _problems = [{{'column_name': ?, 'landed_value': {parent}, 'reason': ?, 'rule': ?}}]
            where len(_problems) = 0 and list_contains(?, {key})
            """,
            [column.name, reason, CYCLE_RULE, cycle],
        ).fetchone()[0]
    # After the cycles: a child of an account set aside has no parent in the file either.
    unknown = con.execute(
        f"""
        select _source_row, {parent}
        from checked_file
        where len(_problems) = 0 and {parent} is not null
          and {parent} not in (select {key} from checked_file where len(_problems) = 0)
        order by _source_row
        """
    ).fetchall()
    if unknown:
        con.execute(
            f"""
            update checked_file set {parent} = null
            where len(_problems) = 0 and {parent} is not null
              and {parent} not in (select {key} from checked_file where len(_problems) = 0)
            """
        )
    messages = tuple(
        f"{display}, {unit} {row}: " + UNKNOWN_PARENT_REASON.format(parent=value) for row, value in unknown
    )
    return HierarchyOutcome(rows_on_cycles, messages)
