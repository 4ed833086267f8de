"""Erasure on request (GDPR Art. 17): a person (an e-mail address) or an account, out of every layer, for good.

One erasure, in this order, while holding the warehouse (`<warehouse>.lock`, then DuckDB's own write lock):
1. Raw layer: every stored Parquet file with a row of the person or account is rewritten under a new name,
   without those rows (they count as set aside, rule `erased`, no value, exactly as a later load would set
   them aside), with an erased contact address or a free text mentioning the address cleared (with the
   language and sentiment derived from the text). Rows set aside earlier are found by their `_erasure_keys`
   and become `erased` rows too, their values gone.
2. The serving file: a new copy without the rows, built beside it (not yet in place).
3. One transaction in the warehouse: the manifest names the new files, the change log gets the event dates
   touched (incremental models recompute those days at the next refresh), rows of the erased account or
   person are deleted from every other table (staging, intermediate, marts, history, versions), the keyed
   hash goes on the suppression list, an audit row records what was removed where. Then every table and
   view of the warehouse, the new serving copy and every named Parquet file are searched for the address,
   its pseudonym and the account id; anything found rolls the whole erasure back and names the place.
4. After the commit: the serving copy replaces the serving file in one rename, the old Parquet files are
   deleted, and the warehouse file is rewritten into a fresh file (DuckDB keeps deleted rows in its blocks
   until they are reused) and renamed over the old one.

A killed erasure leaves the old state or the new one: new files are only named by the committed manifest,
and running the same erasure again finishes what a crash after the commit left undone.

Scores, measures and contributions computed from an erased person's answers stay as they were computed:
they are account-level figures that no longer lead to anyone (the answer, the address, its pseudonym and
the comment are gone), and history is never rewritten silently. `make run REBUILD_HISTORY=1` rescores
everything without the answer when that is wanted. An erased account loses all its rows, scores included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.defs.ingestion.comment_sentiment import language_column, sentiment_column
from orchestration.defs.ingestion.contract import SourceContract, load_contracts
from orchestration.defs.ingestion.personal_data import (
    ERASED_REASON,
    ERASED_RULE,
    ERASURE_KEYS_COLUMN,
    IdentifierColumns,
    pseudonym_column,
    register_identifiers,
)
from orchestration.defs.ingestion.raw_store import SCHEMA as RAW_SCHEMA
from orchestration.defs.ingestion.raw_store import FileLoad, RawStore, raw_file_stem
from orchestration.defs.privacy.keys import ACCOUNT, EMAIL, NORMALISE, Pseudonymiser, load_pseudonymiser
from orchestration.defs.privacy.suppression import SCHEMA as PRIVACY_SCHEMA
from orchestration.defs.runs.warehouse_lock import (
    WarehouseBusyError,
    held_by_this_process,
    warehouse_lock,
)
from orchestration.settings import DEFAULT_MEMORY_LIMIT, Settings

PARQUET_OPTIONS = "(format parquet, compression zstd, row_group_size 122880)"


def _holds_text(data_type: str) -> bool:
    """Text, or lists, structs and maps, which may hold text."""
    return data_type in ("VARCHAR", "JSON") or data_type.endswith("]") or data_type.startswith(("STRUCT", "MAP"))


@dataclass(frozen=True)
class WarehouseFiles:
    """The files an erasure works on."""

    warehouse: Path
    raw_dir: Path
    serving: Path
    memory_limit: str = DEFAULT_MEMORY_LIMIT

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseFiles:
        return cls(settings.warehouse_path, settings.raw_dir, settings.serving_path, settings.memory_limit)

    @property
    def spill_dir(self) -> Path:
        return self.warehouse.parent / "spill"


class ErasureRefused(Exception):
    """The erasure did not start, or was rolled back: the message says why; nothing was changed."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class ErasureRequest:
    kind: str
    """EMAIL or ACCOUNT."""
    identifier: str
    performed_by: str = ""
    reference: str = ""
    """The request's ticket or case number; must not contain the identifier."""
    started_from: str = "command line"

    def validated(self) -> ErasureRequest:
        if self.kind not in NORMALISE:
            raise ErasureRefused(f"Unknown kind of identifier {self.kind!r}: email or account")
        identifier = NORMALISE[self.kind](self.identifier)
        if not identifier or (self.kind == EMAIL and not re.fullmatch(r"[^@\s]+@[^@\s]+", identifier)):
            raise ErasureRefused(f"Not an {'e-mail address' if self.kind == EMAIL else 'account id'}")
        if identifier.lower() in self.reference.lower():
            raise ErasureRefused("The request reference contains the identifier itself: the audit keeps it in clear")
        return ErasureRequest(self.kind, identifier, self.performed_by, self.reference, self.started_from)


@dataclass(frozen=True)
class Needles:
    """What must not be found anywhere after the erasure, as SQL conditions over a text value."""

    kind: str
    identifier: str
    pseudonym: str | None
    identifier_hash: str

    @classmethod
    def of(cls, request: ErasureRequest, pseudonymiser: Pseudonymiser) -> Needles:
        return cls(
            kind=request.kind,
            identifier=request.identifier,
            pseudonym=pseudonymiser.pseudonym(request.identifier) if request.kind == EMAIL else None,
            identifier_hash=pseudonymiser.identifier_hash(request.kind, request.identifier),
        )

    def _pattern(self) -> str:
        escaped = re.escape(self.identifier.lower())
        if self.kind == EMAIL:
            # The whole address: not the tail of mary.jane@... nor the head of ...@example.com.au.
            return rf"(^|[^0-9a-z._%+'-]){escaped}($|[^0-9a-z.-]|\.($|[^0-9a-z]))"
        return rf"(^|[^0-9a-z]){escaped}($|[^0-9a-z])"

    def condition(self, expression: str, with_hash: bool = True) -> str:
        text = f"lower(cast({expression} as varchar))"
        found = [
            f"(contains({text}, {_literal(self.identifier.lower())}) "
            f"and regexp_matches({text}, {_literal(self._pattern())}))"
        ]
        needles = (self.pseudonym, self.identifier_hash)
        found += [f"contains({text}, {_literal(needle)})" for needle in needles if needle]
        if not with_hash:
            found = found[:-1]
        # Never null: `not (...)` must keep a row whose column is empty.
        return "coalesce(" + " or ".join(found) + ", false)"


@dataclass
class Effect:
    place: str
    rows_removed: int = 0
    values_cleared: int = 0


@dataclass
class ErasureReport:
    erasure_id: str
    kind: str
    identifier_hash: str
    effects: list[Effect] = field(default_factory=list)
    already_suppressed: bool = False
    serving_file: Path | None = None
    seconds: float = 0.0

    @property
    def rows_removed(self) -> int:
        return sum(e.rows_removed for e in self.effects)

    @property
    def values_cleared(self) -> int:
        return sum(e.values_cleared for e in self.effects)

    def render(self) -> str:
        what = "e-mail address" if self.kind == EMAIL else "account"
        lines = [
            f"Erased the {what} (keyed hash {self.identifier_hash[:16]}..., erasure {self.erasure_id}) in "
            f"{self.seconds:.1f} s: {self.rows_removed:,} rows removed, {self.values_cleared:,} values cleared"
            + (" (it was erased before; this run removed what came back)" if self.already_suppressed else "")
            + ".",
        ]
        if not self.effects:
            lines.append("Nothing of it was stored; no later load will bring it in.")
        width = max((len(e.place) for e in self.effects), default=5)
        for effect in self.effects:
            counts = f"{effect.rows_removed:>8,} rows  {effect.values_cleared:>6,} values"
            lines.append(f"  {effect.place:<{width}}  {counts}")
        lines.append("Nothing of it is left in the warehouse, the raw layer or the serving file (checked).")
        lines.append("Later loads set its rows aside (privacy.suppressed_identifiers); audit: privacy.erasures.")
        return "\n".join(lines)


# --- holding the warehouse -------------------------------------------------------------------------------


@contextlib.contextmanager
def hold_warehouse(warehouse: Path, erasure_id: str) -> Iterator[None]:
    """The warehouse lock a refresh holds for its whole run (defs/runs/warehouse_lock.py): an erasure never runs
    beside a refresh (and, holding it, may replace the warehouse file). Within a Dagster run, which already
    holds it, the erasure goes ahead; otherwise it refuses at once rather than wait."""
    if held_by_this_process(warehouse):
        yield
        return
    try:
        with warehouse_lock(warehouse, f"erasure {erasure_id}", 0, lambda _message: None):
            yield
    except WarehouseBusyError as busy:
        raise ErasureRefused(f"{busy} Nothing was erased; erase again when it has finished.") from None


def connect(files: WarehouseFiles) -> duckdb.DuckDBPyConnection:
    if not files.warehouse.exists():
        raise ErasureRefused(f"There is no warehouse at {files.warehouse}")
    files.spill_dir.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": files.memory_limit, "temp_directory": str(files.spill_dir)}
    try:
        con = duckdb.connect(str(files.warehouse), config=config)
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise ErasureRefused(
            f"Another process has the warehouse {files.warehouse} open ({error}); nothing was erased. "
            "Close it (BI tools read the serving file) or wait for the refresh to finish, then erase again."
        ) from None
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    return con


# --- the raw layer ---------------------------------------------------------------------------------------


@dataclass
class RewrittenFile:
    """One stored landed file whose Parquet files are rewritten without the erased rows."""

    updated: FileLoad
    rows_erased: int
    rows_erased_unknown_account: int
    rejected_rows_erased: int
    values_cleared: int
    first_event_date: dt.date | None
    last_event_date: dt.date | None


def _in_erased(column: str) -> str:
    """Whether the column holds an erased value; false, not null, for an empty column (`not` keeps the row)."""
    values = f"select landed_value from erased_values where column_name = {_literal(column)}"
    return f"coalesce({_quote(column)} in ({values}), false)"


def _rewrite_source(
    con: duckdb.DuckDBPyConnection,
    store: RawStore,
    contract: SourceContract,
    needles: Needles,
    pseudonymiser: Pseudonymiser,
    erasure_id: str,
) -> list[RewrittenFile]:
    """Writes new Parquet files for every stored file of `contract` holding the person or account; returns
    them (nothing is committed)."""
    files = list(store.stored_files(contract.name).values())
    if not files:
        return []
    for file in files:
        if file.rejected_file and ERASURE_KEYS_COLUMN not in _parquet_columns(con, file.rejected_file):
            raise ErasureRefused(
                f"{contract.name}: {file.landed_file} was loaded before erasure was possible, so the rows it set "
                "aside cannot be told apart. Refresh once (make run), then erase again."
            )
    extras = sorted({name for file in files for name in file.extra_columns})
    relation = f"read_parquet([{', '.join(_literal(f.raw_file) for f in files)}], union_by_name = true)"
    register_identifiers(con, relation, IdentifierColumns.of(contract, extras), pseudonymiser, "stored_identifiers")
    con.execute(
        "create or replace temp table erased_values as select column_name, landed_value, role "
        "from stored_identifiers where identifier_hash = ?",
        [needles.identifier_hash],
    )
    rewritten = []
    for file in files:
        result = _rewrite_file(con, contract, file, needles, erasure_id)
        if result is not None:
            rewritten.append(result)
    return rewritten


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: str) -> set[str]:
    return {name for (name,) in con.execute("select name from parquet_schema(?)", [path]).fetchall()}


def _rewrite_file(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, file: FileLoad, needles: Needles, erasure_id: str
) -> RewrittenFile | None:
    columns = IdentifierColumns.of(contract, file.extra_columns)
    row_columns = columns.with_role("account", "row")
    cleared_columns = columns.with_role("value", "account_value", "mentions")
    erased_row = " or ".join(_in_erased(name) for name in row_columns) or "false"
    cleared = {name: _in_erased(name) for name in cleared_columns}
    any_cleared = " or ".join(cleared.values()) or "false"
    raw = f"read_parquet({_literal(file.raw_file)})"
    rejected = f"read_parquet({_literal(file.rejected_file)})" if file.rejected_file else None
    date = f"cast({_quote(contract.event_date_column)} as date)" if contract.event_date_column else "cast(null as date)"

    rows_erased, values_cleared, first, last = con.execute(f"""
        select count(*) filter (where {erased_row}), count(*) filter (where not ({erased_row}) and ({any_cleared})),
            min({date}) filter (where {erased_row} or {any_cleared}),
            max({date}) filter (where {erased_row} or {any_cleared})
        from {raw}
    """).fetchone()
    by_key = f"coalesce(list_contains({ERASURE_KEYS_COLUMN}, {_literal(needles.identifier_hash)}), false)"
    rejected_erased, rejected_values, rejected_first, rejected_last = (
        con.execute(f"""
            select count(distinct source_row) filter (where {by_key}),
                count(*) filter (where not {by_key} and {needles.condition("landed_value")}),
                min(event_date) filter (where {by_key}), max(event_date) filter (where {by_key})
            from {rejected}
        """).fetchone()
        if rejected
        else (0, 0, None, None)
    )
    if not (rows_erased or values_cleared or rejected_erased or rejected_values):
        return None

    stem = f"{raw_file_stem(file.landed_file)}.{file.content_hash[:16]}.erased-{erasure_id[:12]}"
    directory = Path(file.raw_file).parent
    new_raw = directory / f"{stem}.parquet"
    replacements = []
    sentiment_names = {column.name for column in contract.sentiment_columns}
    for name, condition in cleared.items():
        replacements.append(f"case when {condition} then null else {_quote(name)} end as {_quote(name)}")
        derived = [pseudonym_column(name)] if columns.roles[name] == "value" else []
        if name in sentiment_names:
            # What the loader derives from a text goes with it, as when a later load clears the text.
            derived += [language_column(name), sentiment_column(name)]
        for target in map(_quote, derived):
            replacements.append(f"case when {condition} then null else {target} end as {target}")
    replace = f" replace ({', '.join(replacements)})" if replacements else ""
    _write(con, f"select *{replace} from {raw} where not ({erased_row}) order by _source_row", new_raw)

    erased_column = (
        contract.account_column.name
        if needles.kind == ACCOUNT and contract.account_column
        else next(iter(columns.with_role("row")), "(row)")
    )
    # The rows now set aside as erased, as the loader writes them: one reason, no value, no keys.
    erased_from_raw = f"""
        select {_literal(contract.name)} as source, _source_file as landed_file, _source_row as source_row,
            case when lower(_source_file) like '%.parquet' then 'row ' else 'line ' end || _source_row as location,
            {_literal(erased_column)} as column_name, cast(null as varchar) as landed_value,
            {_literal(ERASED_REASON)} as reason, {_literal(ERASED_RULE)} as rule, {date} as event_date,
            cast(null as varchar[]) as {ERASURE_KEYS_COLUMN}
        from {raw} where {erased_row}
    """
    parts = [erased_from_raw]
    if rejected:
        parts.append(f"""
            select source, landed_file, source_row, any_value(location), {_literal(erased_column)},
                cast(null as varchar), {_literal(ERASED_REASON)}, {_literal(ERASED_RULE)}, any_value(event_date),
                cast(null as varchar[])
            from {rejected} where {by_key} group by source, landed_file, source_row
        """)
        parts.append(f"""
            select source, landed_file, source_row, location, column_name,
                case when {needles.condition("landed_value")} then null else landed_value end,
                reason, rule, event_date, {ERASURE_KEYS_COLUMN}
            from {rejected}
            where source_row not in (select source_row from {rejected} where {by_key})
        """)
    new_rejected = directory / "rejected" / f"{stem}.parquet"
    new_rejected.parent.mkdir(exist_ok=True)
    _write(con, " union all ".join(f"({part})" for part in parts) + " order by source_row, column_name", new_rejected)

    erased_unknown = con.execute(
        f"select count(*) from {RAW_SCHEMA}.unknown_account_rows where source = ? and landed_file = ? "
        f"and source_row in (select _source_row from {raw} where {erased_row})",
        [contract.name, file.landed_file],
    ).fetchone()[0]
    # Erased rows now count as set aside for being erased, no longer as rows of an unknown account.
    updated = dataclasses.replace(
        file,
        raw_file=str(new_raw),
        rejected_file=str(new_rejected),
        rows_rejected=file.rows_rejected + rows_erased - erased_unknown,
        rows_unknown_account=file.rows_unknown_account - erased_unknown,
        rows_erased=file.rows_erased + rows_erased + rejected_erased,
    )
    dates = [d for d in (first, last, rejected_first, rejected_last) if d is not None]
    return RewrittenFile(
        updated=updated,
        rows_erased=rows_erased,
        rows_erased_unknown_account=erased_unknown,
        rejected_rows_erased=rejected_erased,
        values_cleared=values_cleared + rejected_values,
        first_event_date=min(dates, default=None),
        last_event_date=max(dates, default=None),
    )


def _write(con: duckdb.DuckDBPyConnection, query: str, destination: Path) -> None:
    partial = destination.with_name(destination.name + ".partial")
    con.execute(f"copy ({query}) to {_literal(str(partial))} {PARQUET_OPTIONS}")
    os.replace(partial, destination)


def _commit_raw_changes(
    con: duckdb.DuckDBPyConnection,
    store: RawStore,
    contract: SourceContract,
    rewritten: list[RewrittenFile],
    now: dt.datetime,
) -> None:
    """Inside the caller's transaction: the manifest names the new files, the change log gets the days they
    touched, the erased rows leave raw.unknown_account_rows, and the views are recreated."""
    for change in rewritten:
        file = change.updated
        con.execute(
            f"update {RAW_SCHEMA}.landed_files set raw_file = ?, rejected_file = ?, rows_rejected = ?, "
            "rows_unknown_account = ?, rows_erased = ? where source = ? and landed_file = ?",
            [
                file.raw_file,
                file.rejected_file,
                file.rows_rejected,
                file.rows_unknown_account,
                file.rows_erased,
                contract.name,
                file.landed_file,
            ],
        )
        con.execute(
            f"insert into {RAW_SCHEMA}.landed_file_changes values (?, ?, ?, 'erased', ?, ?, ?)",
            [contract.name, file.landed_file, file.content_hash, change.first_event_date, change.last_event_date, now],
        )
        con.execute(
            f"delete from {RAW_SCHEMA}.unknown_account_rows where source = ? and landed_file = ? "
            f"and source_row not in (select _source_row from read_parquet(?))",
            [contract.name, file.landed_file, file.raw_file],
        )
    files = {f.landed_file: f for f in store.stored_files(contract.name).values()}
    store.recreate_views(contract, list(files.values()))


def _forget_account_ids(con: duckdb.DuckDBPyConnection, pseudonymiser: Pseudonymiser, needles: Needles) -> int:
    """raw.checked_account_ids lists the account ids each source was last judged against."""
    if needles.kind != ACCOUNT:
        return 0
    ids = [
        row[0] for row in con.execute(f"select distinct account_id from {RAW_SCHEMA}.checked_account_ids").fetchall()
    ]
    erased = [value for value in ids if pseudonymiser.identifier_hash(ACCOUNT, value) == needles.identifier_hash]
    if not erased:
        return 0
    return con.execute(
        f"delete from {RAW_SCHEMA}.checked_account_ids where account_id in (select unnest(?))", [erased]
    ).fetchone()[0]


# --- tables of the warehouse and of the serving file -----------------------------------------------------


@dataclass(frozen=True)
class Relation:
    catalog: str
    schema: str
    name: str
    is_view: bool
    columns: tuple[tuple[str, str], ...]

    @property
    def qualified(self) -> str:
        return f"{_quote(self.catalog)}.{_quote(self.schema)}.{_quote(self.name)}"

    @property
    def place(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def text_columns(self) -> list[str]:
        """Columns that can hold an identifier: text, and lists or structs of anything."""
        return [name for name, kind in self.columns if _holds_text(kind)]


def relations(con: duckdb.DuckDBPyConnection, catalog: str) -> list[Relation]:
    found = con.execute(
        """
        select t.schema_name, t.table_name, t.is_view, list((c.column_name, c.data_type) order by c.column_index)
        from (
            select schema_name, table_name, false as is_view from duckdb_tables() where database_name = $1
            union all
            select schema_name, view_name, true from duckdb_views() where database_name = $1 and not internal
        ) as t
        inner join duckdb_columns() as c
            on c.database_name = $1 and c.schema_name = t.schema_name and c.table_name = t.table_name
        group by all
        order by 1, 2
        """,
        [catalog],
    ).fetchall()
    return [Relation(catalog, schema, name, is_view, tuple(columns)) for schema, name, is_view, columns in found]


def _value_columns(relation: Relation) -> list[str]:
    """Columns holding the pseudonym of a contact address, cleared rather than deleting the row."""
    names = {
        f"{column.name}_pseudonym"
        for contract in load_contracts().values()
        for column in contract.email_columns
        if column.erasure == "value"
    }
    return [name for name, _ in relation.columns if name in names]


def _parent_columns(relation: Relation) -> list[str]:
    """Columns naming the parent of the row's own account (an account hierarchy): cleared, not deleting the
    row, when the parent is erased. Only beside the row's own account column; elsewhere (a family's roll-up,
    keyed by its parent) the row is about the parent and goes."""
    names = {c.name for contract in load_contracts().values() if (c := contract.parent_column)}
    keys = {c.parent_key for contract in load_contracts().values() if (c := contract.parent_column)}
    present = {name for name, _ in relation.columns}
    return [name for name in sorted(names & present) if keys & present]


def _erase_from_tables(con: duckdb.DuckDBPyConnection, catalog: str, needles: Needles) -> list[Effect]:
    """Deletes every row of every table outside raw and privacy that names the account, the address or its
    pseudonym; a contact's pseudonym is cleared instead (the account stays)."""
    effects = []
    for relation in relations(con, catalog):
        if relation.is_view or relation.schema in (RAW_SCHEMA, PRIVACY_SCHEMA) or not relation.text_columns:
            continue
        effect = Effect(relation.place)
        if needles.pseudonym:
            for column in _value_columns(relation):
                effect.values_cleared += con.execute(
                    f"update {relation.qualified} set {_quote(column)} = null where {_quote(column)} = ?",
                    [needles.pseudonym],
                ).fetchone()[0]
        if needles.kind == ACCOUNT:
            for column in _parent_columns(relation):
                # The erased account as another account's parent: that account stays, without its parent.
                effect.values_cleared += con.execute(
                    f"update {relation.qualified} set {_quote(column)} = null where {needles.condition(_quote(column))}"
                ).fetchone()[0]
        condition = " or ".join(needles.condition(_quote(c)) for c in relation.text_columns)
        effect.rows_removed = con.execute(f"delete from {relation.qualified} where {condition}").fetchone()[0]
        if effect.rows_removed or effect.values_cleared:
            effects.append(effect)
    return effects


def _rewrite_serving(serving: Path, needles: Needles, erasure_id: str) -> tuple[Path, list[Effect]] | None:
    """A copy of the serving file without the erased rows, built beside it; the caller renames it over the
    serving file once the warehouse is committed. Built table by table from the old file rather than by
    deleting in a copy: deleted rows would stay in the copy's blocks."""
    if not serving.exists():
        return None
    partial = serving.with_name(f".{serving.name}.erasure-{erasure_id[:12]}.partial")
    partial.unlink(missing_ok=True)
    try:
        return partial, _copy_serving_without(serving, partial, needles)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _copy_serving_without(serving: Path, partial: Path, needles: Needles) -> list[Effect]:
    effects = []
    with duckdb.connect(str(partial)) as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {_literal(str(serving))} as published (read_only)")
        published = relations(con, "published")
        for schema in sorted({r.schema for r in published}):
            con.execute(f"create schema if not exists {_quote(schema)}")
        for relation in published:
            if relation.is_view:
                continue
            target = f"{_quote(relation.schema)}.{_quote(relation.name)}"
            cleared = _value_columns(relation) if needles.pseudonym else []
            parents = _parent_columns(relation) if needles.kind == ACCOUNT else []
            replace = ", ".join(
                [
                    f"case when {_quote(c)} = {_literal(needles.pseudonym)} then null "
                    f"else {_quote(c)} end as {_quote(c)}"
                    for c in cleared
                ]
                + [
                    f"case when {needles.condition(_quote(c))} then null else {_quote(c)} end as {_quote(c)}"
                    for c in parents
                ]
            )
            select = f"* replace ({replace})" if replace else "*"
            condition = (
                " or ".join(needles.condition(_quote(c)) for c in relation.text_columns if c not in parents) or "false"
            )
            con.execute(f"create table {target} as select {select} from {relation.qualified} where not ({condition})")
            before = con.execute(f"select count(*) from {relation.qualified}").fetchone()[0]
            after = con.execute(f"select count(*) from {target}").fetchone()[0]
            values = sum(
                con.execute(
                    f"select count(*) from {relation.qualified} where {_quote(c)} = ? and not ({condition})",
                    [needles.pseudonym],
                ).fetchone()[0]
                for c in cleared
            ) + sum(
                con.execute(
                    f"select count(*) from {relation.qualified} "
                    f"where {needles.condition(_quote(c))} and not ({condition})"
                ).fetchone()[0]
                for c in parents
            )
            if before != after or values:
                effects.append(Effect(f"serving {relation.place}", before - after, values))
        for (sql,) in con.execute(
            "select sql from duckdb_views() where database_name = 'published' and not internal"
        ).fetchall():
            con.execute(sql)
        con.execute("detach published")
        leftovers = find_leftovers(con, con.execute("select current_database()").fetchone()[0], needles)
        if leftovers:
            raise ErasureRefused("The new serving file would still hold it: " + "; ".join(leftovers))
        con.execute("checkpoint")
    return effects


# --- checking ----------------------------------------------------------------------------------------------


def find_leftovers(con: duckdb.DuckDBPyConnection, catalog: str, needles: Needles) -> list[str]:
    """Every table and view of `catalog` and column where the address, its pseudonym, the account id or the
    keyed hash (outside the privacy schema) is still found, with counts; never the value."""
    found = []
    for relation in relations(con, catalog):
        columns = relation.text_columns
        if not columns:
            continue
        with_hash = relation.schema != PRIVACY_SCHEMA
        counts = ", ".join(f"count(*) filter (where {needles.condition(_quote(c), with_hash)})" for c in columns)
        row = con.execute(f"select {counts} from {relation.qualified}").fetchone()
        found += [
            f"{relation.place}.{column}: {count} row(s)" for column, count in zip(columns, row, strict=True) if count
        ]
    return found


def find_leftovers_in_parquet(con: duckdb.DuckDBPyConnection, files: list[str], needles: Needles) -> list[str]:
    """The same search in Parquet files, every column that can hold text."""
    found = []
    for path in files:
        described = con.execute(f"describe select * from read_parquet({_literal(path)})").fetchall()
        columns = [row[0] for row in described if _holds_text(row[1])]
        if not columns:
            continue
        counts = ", ".join(f"count(*) filter (where {needles.condition(_quote(c))})" for c in columns)
        row = con.execute(f"select {counts} from read_parquet({_literal(path)})").fetchone()
        found += [
            f"{Path(path).name} column {column}: {count} row(s)"
            for column, count in zip(columns, row, strict=True)
            if count
        ]
    return found


# --- the whole erasure -------------------------------------------------------------------------------------


def compact_warehouse(files: WarehouseFiles) -> None:
    """Rewrites the warehouse into a fresh file and renames it over the old one: DuckDB keeps deleted rows in
    the blocks of the file until they happen to be reused. Call while holding the warehouse."""
    warehouse = files.warehouse
    fresh = warehouse.with_name(f".{warehouse.name}.compacting")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    with connect(files) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach {_literal(str(fresh))} as compacted")
        con.execute(f"copy from database {_quote(catalog)} to compacted")
        con.execute("detach compacted")
    os.replace(fresh, warehouse)


def erase(
    request: ErasureRequest,
    files: WarehouseFiles,
    notify: Callable[[str], None] = lambda message: None,
    now: dt.datetime | None = None,
) -> ErasureReport:
    """Erases the person or account of `request` from the warehouse, its raw layer and the serving file, and
    keeps it out of later loads. Raises ErasureRefused (nothing changed) when that cannot be done completely."""
    started = time.monotonic()
    request = request.validated()
    say = notify

    def notify(message: str) -> None:
        say(f"[{time.monotonic() - started:5.1f} s] {message}")

    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    erasure_id = uuid.uuid4().hex
    # Never a new key: the warehouse's pseudonyms and suppression list were made with its own.
    pseudonymiser = load_pseudonymiser(files.warehouse, create=False)
    needles = Needles.of(request, pseudonymiser)
    report = ErasureReport(erasure_id, request.kind, needles.identifier_hash)
    contracts = list(load_contracts().values())
    with hold_warehouse(files.warehouse, erasure_id):
        con = connect(files)
        try:
            # Creates the privacy tables where needed and refuses a key other than the warehouse's.
            store = RawStore(con, files.raw_dir, pseudonymiser)
        except BaseException:
            con.close()
            raise
        report.already_suppressed = bool(
            con.execute(
                f"select count(*) from {PRIVACY_SCHEMA}.suppressed_identifiers where identifier_hash = ?",
                [needles.identifier_hash],
            ).fetchone()[0]
        )
        serving = None
        try:
            notify("Rewriting the raw files that hold it ...")
            rewritten = {c.name: _rewrite_source(con, store, c, needles, pseudonymiser, erasure_id) for c in contracts}
            notify("Building the serving file without it ...")
            serving = _rewrite_serving(files.serving, needles, erasure_id)
            notify("Removing it from the warehouse tables ...")
            con.execute("begin transaction")
            for contract in contracts:
                if rewritten[contract.name]:
                    _commit_raw_changes(con, store, contract, rewritten[contract.name], now)
                    changes = rewritten[contract.name]
                    report.effects.append(
                        Effect(
                            f"raw {contract.name}",
                            sum(c.rows_erased - c.rows_erased_unknown_account for c in changes),
                            sum(c.values_cleared for c in changes),
                        )
                    )
                    unknown = sum(c.rows_erased_unknown_account for c in changes)
                    if unknown:
                        report.effects.append(Effect(f"raw {contract.name} (rows of unknown accounts)", unknown))
                    earlier = sum(c.rejected_rows_erased for c in changes)
                    if earlier:
                        report.effects.append(Effect(f"raw {contract.name} (rows set aside before)", earlier))
            forgotten = _forget_account_ids(con, pseudonymiser, needles)
            if forgotten:
                report.effects.append(Effect("raw.checked_account_ids", forgotten))
            catalog = con.execute("select current_database()").fetchone()[0]
            report.effects += _erase_from_tables(con, catalog, needles)
            if serving:
                report.effects += serving[1]
            _record(con, request, report, now)
            notify("Checking that nothing of it is left ...")
            leftovers = find_leftovers(con, catalog, needles)
            named = [
                path
                for row in con.execute(f"select raw_file, rejected_file from {RAW_SCHEMA}.landed_files").fetchall()
                for path in row
                if path
            ]
            leftovers += find_leftovers_in_parquet(con, named, needles)
            if leftovers:
                raise ErasureRefused(
                    "Erasure rolled back, nothing was changed: it would still be found in "
                    + "; ".join(leftovers)
                    + ". A column the contract does not mark as personal data, or a landed file named after it?"
                )
            con.execute("commit")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # no transaction yet when the raw files failed
                con.execute("rollback")
            for contract in contracts:
                store.remove_unnamed_files(contract.name)
            if serving:
                serving[0].unlink(missing_ok=True)
            con.close()
            raise
        for contract in contracts:
            store.remove_unnamed_files(contract.name)
        con.close()
        if serving:
            os.replace(serving[0], files.serving)
            report.serving_file = files.serving
        notify("Rewriting the warehouse file so that no deleted block keeps it ...")
        compact_warehouse(files)
    report.seconds = time.monotonic() - started
    return report


def _record(con: duckdb.DuckDBPyConnection, request: ErasureRequest, report: ErasureReport, now: dt.datetime) -> None:
    """The suppression list entry and the audit rows: the keyed hash, never the identifier."""
    con.execute(
        f"insert into {PRIVACY_SCHEMA}.suppressed_identifiers values (?, ?, ?, ?) on conflict do nothing",
        [report.identifier_hash, request.kind, report.erasure_id, now],
    )
    con.execute(
        f"insert into {PRIVACY_SCHEMA}.erasures values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            report.erasure_id,
            now,
            request.kind,
            report.identifier_hash,
            request.performed_by or None,
            request.reference or None,
            request.started_from,
            report.rows_removed,
            report.values_cleared,
        ],
    )
    for effect in report.effects:
        con.execute(
            f"insert into {PRIVACY_SCHEMA}.erasure_effects values (?, ?, ?, ?)",
            [report.erasure_id, effect.place, effect.rows_removed, effect.values_cleared],
        )
