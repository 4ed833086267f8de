"""Personal data in a landed file, after its rows are checked: keyed pseudonyms, and people and accounts erased
on request kept out.

For each e-mail column of the contract (`erasure: row` or `value`) the raw layer keeps the keyed pseudonym
`_<column>_pseudonym` next to the address; staging publishes only the pseudonym. It is computed here, in
Python, so the key never appears in SQL text, dbt's compiled models or its logs.

Every row naming an identifier on the suppression list (privacy.suppressed_identifiers) is treated as its
erasure demands, at every load, whether the file is new, changed or read again:
- the account named by the row, or the address in an `erasure: row` column: the row is set aside with rule
  `erased` and no value, and counts as set aside, so rows read = rows loaded + rows set aside still holds;
- the address in an `erasure: value` column: the address and its pseudonym are cleared, the row loads;
- the account as the parent of another (the contract's parent column): the parent is cleared, the row loads;
- a free-text column (`erasure: mentions`, and columns beyond the contract) mentioning an erased address:
  the text is cleared, the row loads.

Rows set aside for other reasons keep the hashes of the identifiers they name (`_erasure_keys`, never
shown), so that an erasure can find them although the reason they were set aside names another column.
Only distinct values are hashed: a file of millions of events names a few thousand accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from orchestration.defs.ingestion.contract import SourceContract
from orchestration.defs.privacy.keys import ACCOUNT, EMAIL, Pseudonymiser

ERASED_RULE = "erased"
ERASED_REASON = "erased on request (GDPR Art. 17): the row is not loaded"
ERASURE_KEYS_COLUMN = "_erasure_keys"
# An address inside free text; compared in lower case.
EMAIL_IN_TEXT = re.compile(r"[0-9a-z._%+'-]+@[0-9a-z-]+(?:\.[0-9a-z-]+)+", re.IGNORECASE)
IDENTIFIER_SCHEMA = pa.schema(
    [
        ("column_name", pa.string()),
        ("landed_value", pa.string()),
        ("role", pa.string()),
        ("identifier_hash", pa.string()),
        ("pseudonym", pa.string()),
    ]
)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def pseudonym_column(column: str) -> str:
    """The raw column holding the keyed pseudonym of e-mail column `column`."""
    return f"_{column}_pseudonym"


def pseudonym_columns(contract: SourceContract) -> tuple[str, ...]:
    return tuple(pseudonym_column(c.name) for c in contract.email_columns)


def erased_problem(column: str) -> str:
    """The one reason an erased row is set aside with, shaped like landing.py's problems; never its value."""
    return (
        f"{{'column_name': {_literal(column)}, 'landed_value': cast(null as varchar), "
        f"'reason': {_literal(ERASED_REASON)}, 'rule': {_literal(ERASED_RULE)}}}"
    )


@dataclass(frozen=True)
class IdentifierColumns:
    """Where a source names people and accounts: role per column (account, account_value, row, value, mentions)."""

    roles: dict[str, str]

    @classmethod
    def of(cls, contract: SourceContract, extra_columns: Iterable[str] = ()) -> IdentifierColumns:
        roles = {}
        if contract.account_column is not None:
            roles[contract.account_column.name] = "account"
        # An account's parent names another account: erasing that one clears the value, the row stays.
        if contract.parent_column is not None:
            roles[contract.parent_column.name] = "account_value"
        for column in contract.email_columns:
            roles[column.name] = column.erasure
        for column in contract.mention_columns:
            roles[column.name] = "mentions"
        # Columns beyond the contract are kept as text and may hold anything, addresses included.
        for name in extra_columns:
            roles.setdefault(name, "mentions")
        return cls(roles)

    def with_role(self, *roles: str) -> list[str]:
        return [name for name, role in self.roles.items() if role in roles]


def register_identifiers(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: IdentifierColumns,
    pseudonymiser: Pseudonymiser,
    table: str = "personal_identifiers",
) -> None:
    """Temp table `table`: every distinct value of `relation` that names an account or a person, with its
    keyed hash (and pseudonym for addresses); a free text yields one row per address it mentions."""
    rows: list[tuple[str, str, str, str, str | None]] = []
    for name, role in columns.roles.items():
        column = _quote(name)
        condition = f"{column} is not null" + (f" and contains({column}, '@')" if role == "mentions" else "")
        for (value,) in con.execute(f"select distinct {column} from {relation} where {condition}").fetchall():
            if role in ("account", "account_value"):
                rows.append((name, value, role, pseudonymiser.identifier_hash(ACCOUNT, value), None))
            elif role in ("row", "value"):
                rows.append(
                    (name, value, role, pseudonymiser.identifier_hash(EMAIL, value), pseudonymiser.pseudonym(value))
                )
            else:
                for address in {match.lower() for match in EMAIL_IN_TEXT.findall(value)}:
                    rows.append((name, value, role, pseudonymiser.identifier_hash(EMAIL, address), None))
    found = pa.Table.from_pylist(
        [dict(zip(IDENTIFIER_SCHEMA.names, row, strict=True)) for row in rows], schema=IDENTIFIER_SCHEMA
    )
    con.register("identifier_rows", found)
    con.execute(f"create or replace temp table {table} as select * from identifier_rows")
    con.unregister("identifier_rows")


@dataclass(frozen=True)
class PersonalDataOutcome:
    rows_erased: int = 0
    values_cleared: int = 0


def protect_checked_file(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    extra_columns: tuple[str, ...],
    pseudonymiser: Pseudonymiser,
    suppressed: set[str],
) -> PersonalDataOutcome:
    """Adds the pseudonym columns and `_erasure_keys` to the temp table `checked_file` (landing.py) and applies
    the suppression list to its rows."""
    columns = IdentifierColumns.of(contract, extra_columns)
    # Keyed hashes are needed for every row to pseudonymise addresses and to apply the suppression list;
    # otherwise only rows set aside need them (`_erasure_keys`), and a usage part has tens of thousands of rows.
    every_row = bool(suppressed) or bool(columns.with_role("row", "value", "mentions"))
    register_identifiers(
        con,
        "checked_file" if every_row else "(select * from checked_file where len(_problems) > 0)",
        columns,
        pseudonymiser,
    )
    for name in columns.with_role("row", "value"):
        target = _quote(pseudonym_column(name))
        con.execute(f"alter table checked_file add column {target} varchar")
        con.execute(f"""
            update checked_file set {target} = ids.pseudonym
            from personal_identifiers as ids
            where ids.column_name = {_literal(name)} and ids.landed_value = checked_file.{_quote(name)}
        """)
    con.execute(f"alter table checked_file add column {ERASURE_KEYS_COLUMN} varchar[]")

    outcome = PersonalDataOutcome()
    if suppressed:
        con.register("suppressed_list", pa.table({"identifier_hash": sorted(suppressed)}))
        con.execute(
            "create or replace temp table erased_values as select column_name, landed_value, role "
            "from personal_identifiers where identifier_hash in (select identifier_hash from suppressed_list)"
        )
        con.unregister("suppressed_list")
        if con.execute("select count(*) from erased_values").fetchone()[0]:
            outcome = _apply_erasures(con, columns)

    # Rows set aside keep the hashes of the account and person they are about, to be found by an erasure.
    key_matches = " or ".join(
        f"(ids.column_name = {_literal(name)} and ids.landed_value = checked.{_quote(name)})"
        for name in columns.with_role("account", "row")
    )
    if key_matches:
        con.execute(f"""
            update checked_file set {ERASURE_KEYS_COLUMN} = keys.identifier_hashes
            from (
                select checked._source_row, list(distinct ids.identifier_hash order by ids.identifier_hash)
                    as identifier_hashes
                from checked_file as checked
                inner join personal_identifiers as ids on {key_matches}
                where len(checked._problems) > 0
                group by checked._source_row
            ) as keys
            where checked_file._source_row = keys._source_row
              and list_extract(checked_file._problems, 1).rule <> {_literal(ERASED_RULE)}
        """)
    return outcome


def _apply_erasures(con: duckdb.DuckDBPyConnection, columns: IdentifierColumns) -> PersonalDataOutcome:
    def erased(name: str) -> str:
        return f"(select landed_value from erased_values where column_name = {_literal(name)})"

    rows_erased = 0
    for name in columns.with_role("account", "row"):
        # A row erased for one column is not counted again for the next.
        rows_erased += con.execute(f"""
            update checked_file set _problems = [{erased_problem(name)}]
            where {_quote(name)} in {erased(name)}
              and not (len(_problems) = 1 and list_extract(_problems, 1).rule = {_literal(ERASED_RULE)})
        """).fetchone()[0]
    values_cleared = 0
    for name in columns.with_role("value", "account_value", "mentions"):
        # A reason the row was set aside for may quote the value as landed: withheld as well.
        con.execute(f"""
            update checked_file set _problems = list_transform(_problems, lambda problem: case
                when problem.column_name = {_literal(name)} then {{'column_name': problem.column_name,
                    'landed_value': cast(null as varchar), 'reason': problem.reason, 'rule': problem.rule}}
                else problem end)
            where {_quote(name)} in {erased(name)} and len(_problems) > 0
        """)
        cleared = [_quote(name)] + ([_quote(pseudonym_column(name))] if columns.roles[name] == "value" else [])
        assignments = ", ".join(f"{column} = null" for column in cleared)
        values_cleared += con.execute(
            f"update checked_file set {assignments} where {_quote(name)} in {erased(name)}"
        ).fetchone()[0]
    return PersonalDataOutcome(rows_erased, values_cleared)
