"""The raw layer: each landed file, checked, kept as one Parquet file, and loaded again only when it changes.

For every landed file the store holds one Parquet file of its rows that met the contract and one of the
rows set aside with their reasons, both named after the landed file's content hash. The warehouse records
them in `raw.landed_files` (one row per landed file: size, modification time, hash, rows read, loaded and
set aside) and exposes them as views: `raw.<source>` (the rows that load) and `raw.rejected_rows` (every
row set aside, with file, line, column, value and reason). dbt reads those views; on Spark the same Parquet
files can back external tables.

A landed file whose name, size and modification time are unchanged is not read again; one whose content
changed replaces exactly its own rows; a removed one takes its rows with it. Every change is appended to
`raw.landed_file_changes` with the range of event dates it touched, which is how incremental models know
which days to recompute. Rows naming an account the accounts export does not know are set aside too; they
are re-judged when accounts appear or disappear, without reading the files again.

Crash safety: new Parquet files are written under new names and only then committed, together with the
manifest and the views, in one DuckDB transaction; files the committed manifest does not name are removed
on the next load. A killed load leaves either the old or the new state, never a mix.

Personal data: e-mail columns get a keyed pseudonym, and rows of people and accounts erased on request are
set aside with rule `erased` at every load (personal_data.py); orchestration/defs/privacy/erasure.py
rewrites the stored files when someone is erased.

Derived columns: besides those pseudonyms, survey comments get their language and sentiment
(comment_sentiment.py). A stored file without a derived column the contract now asks for is read again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.defs.ingestion.comment_sentiment import score_checked_file, sentiment_columns
from orchestration.defs.ingestion.contract import SourceContract, load_contracts
from orchestration.defs.ingestion.landing import (
    CheckedFile,
    LandingError,
    check_staged_file,
    stage_landing_file,
    summarise_checked_file,
)
from orchestration.defs.ingestion.load_rules import LoadRules
from orchestration.defs.ingestion.personal_data import (
    ERASURE_KEYS_COLUMN,
    protect_checked_file,
    pseudonym_columns,
)
from orchestration.defs.privacy.keys import Pseudonymiser, load_pseudonymiser
from orchestration.defs.privacy.suppression import (
    check_key,
    ensure_privacy_schema,
    has_key_fingerprint,
    suppressed_hashes,
)

SCHEMA = "raw"
ACCOUNT_SOURCE = "accounts"
PARQUET_OPTIONS = "(format parquet, compression zstd, row_group_size 122880)"
REJECTED_COLUMNS = (
    ("source", "varchar"),
    ("landed_file", "varchar"),
    ("source_row", "bigint"),
    ("location", "varchar"),
    ("column_name", "varchar"),
    ("landed_value", "varchar"),
    ("reason", "varchar"),
    ("rule", "varchar"),
    ("event_date", "date"),
)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _file_list(paths: list[str]) -> str:
    return "[" + ", ".join(_literal(p) for p in paths) + "]"


def raw_file_stem(display: str) -> str:
    """The landed file's path inside the landing directory, as a file name."""
    return re.sub(r"[^0-9A-Za-z._-]+", "_", display)


def database_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the connection's database; None in memory."""
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    return Path(path) if path else None


def derived_columns(contract: SourceContract) -> tuple[tuple[str, str], ...]:
    """The raw columns the loader adds to a source's landed columns, with their DuckDB types: the keyed
    pseudonyms of e-mail columns, the language and sentiment of comments."""
    return tuple((name, "VARCHAR") for name in pseudonym_columns(contract)) + sentiment_columns(contract)


def content_hash(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"""
        create table if not exists {SCHEMA}.landed_files (
            source varchar, landed_file varchar, size_bytes bigint, modified_ns bigint, content_hash varchar,
            raw_file varchar, rejected_file varchar, rows_read bigint, rows_rejected bigint,
            rows_unknown_account bigint, first_event_date date, last_event_date date,
            newest_event_at timestamp, extra_columns varchar[], loaded_at timestamp, recheck_after timestamp,
            primary key (source, landed_file)
        )
    """)
    # Rows set aside because a person or account was erased on request (counted in rows_rejected too); added
    # to warehouses created before erasure existed.
    con.execute(f"alter table {SCHEMA}.landed_files add column if not exists rows_erased bigint default 0")
    con.execute(f"""
        create table if not exists {SCHEMA}.landed_file_changes (
            source varchar, landed_file varchar, content_hash varchar, change varchar,
            first_event_date date, last_event_date date, changed_at timestamp
        )
    """)
    con.execute(f"""
        create table if not exists {SCHEMA}.unknown_account_rows (
            source varchar, landed_file varchar, source_row bigint, account_id varchar, event_date date
        )
    """)
    con.execute(f"create table if not exists {SCHEMA}.checked_account_ids (source varchar, account_id varchar)")
    # Warehouses from before the raw layer was Parquet kept each source as a table raw.<source>; it gives way
    # to the view over the source's files. Nothing is lost: the manifest knows none of those loads, so every
    # landed file is read again.
    sources = list(load_contracts())
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? "
        "and list_contains(?, table_name)",
        [SCHEMA, sources],
    ).fetchall():
        con.execute(f"drop table {SCHEMA}.{_quote(table)}")


@dataclass
class FileLoad:
    """A landed file as it stands after this load."""

    landed_file: str
    size_bytes: int
    modified_ns: int
    content_hash: str
    raw_file: str
    rejected_file: str | None
    rows_read: int
    rows_rejected: int
    first_event_date: dt.date | None
    last_event_date: dt.date | None
    newest_event_at: dt.datetime | None
    extra_columns: tuple[str, ...]
    loaded_at: dt.datetime
    recheck_after: dt.datetime | None
    is_new: bool = False
    rows_unknown_account: int = 0
    values_cleared: int = 0
    """Erased addresses cleared from rows that load (an account's contact, mentions in free text)."""
    rows_erased: int = 0
    """Rows set aside because their person or account was erased on request; part of rows_rejected."""
    unknown_parents: tuple[str, ...] = ()
    """Rows loaded now without the parent they named, which the file lacks (hierarchy.py), as messages; not
    kept in the manifest, so reported by the load that read the file."""


@dataclass
class SourceLoad:
    """What one load did to one source."""

    source: str
    files: list[FileLoad] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected + f.rows_unknown_account for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_rejected

    @property
    def rejected_share(self) -> float:
        """The share of rows breaking the contract; rows erased on request are no sign of a broken export."""
        erased = sum(f.rows_erased for f in self.files)
        return (self.rows_rejected - erased) / (self.rows_read - erased) if self.rows_read > erased else 0.0

    @property
    def values_cleared(self) -> int:
        return sum(f.values_cleared for f in self.files)

    @property
    def unknown_parents(self) -> list[str]:
        return [message for f in self.files for message in f.unknown_parents]

    @property
    def changed(self) -> list[FileLoad]:
        return [f for f in self.files if f.is_new]


def stored_files(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, FileLoad]:
    """The landed files of `source` as the committed manifest records them, by landed file."""
    rows = con.execute(
        f"select landed_file, size_bytes, modified_ns, content_hash, raw_file, rejected_file, rows_read, "
        f"rows_rejected, first_event_date, last_event_date, newest_event_at, extra_columns, loaded_at, "
        f"recheck_after, rows_unknown_account, rows_erased from {SCHEMA}.landed_files where source = ?",
        [source],
    ).fetchall()
    return {
        row[0]: FileLoad(*row[:11], tuple(row[11] or ()), row[12], row[13], False, row[14], rows_erased=row[15])
        for row in rows
    }


def raw_view_columns(contract: SourceContract, files: list[FileLoad]) -> list[str]:
    """The columns of `raw.<source>` over `files`, in order: the contract's, those beyond it that any file has,
    the derived ones, then where each row came from."""
    extras: list[str] = []
    for file in files:
        extras += [name for name in file.extra_columns if name not in extras]
    return [
        *contract.column_names,
        *extras,
        *(name for name, _ in derived_columns(contract)),
        "_source_file",
        "_source_row",
        "_loaded_at",
    ]


def known_account_condition(contract: SourceContract, landed: str = "landed") -> str:
    """The SQL condition that keeps a row of `landed` out of `raw.<source>` when its account is unknown."""
    return f"""not exists (
                select 1 from {SCHEMA}.unknown_account_rows as unknown
                where unknown.source = {_literal(contract.name)}
                  and unknown.landed_file = {landed}._source_file
                  and unknown.source_row = {landed}._source_row
            )"""


class RawStore:
    """The raw Parquet files of every source under `root`, and their manifest in the warehouse."""

    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path, pseudonymiser: Pseudonymiser | None = None):
        self.con = con
        self.root = root
        ensure_schema(con)
        # The key comes from the environment or the key file next to the warehouse (privacy/keys.py); a key
        # file is created only for a warehouse that holds no pseudonyms yet.
        if pseudonymiser is None:
            pseudonymiser = load_pseudonymiser(database_path(con), create=not has_key_fingerprint(con))
        self.pseudonymiser = pseudonymiser
        ensure_privacy_schema(con)
        check_key(con, self.pseudonymiser, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.suppressed = suppressed_hashes(con)

    # --- reading the manifest --------------------------------------------------------------------------

    def stored_files(self, source: str) -> dict[str, FileLoad]:
        return stored_files(self.con, source)

    def _source_dir(self, source: str) -> Path:
        return self.root / source

    # --- loading -----------------------------------------------------------------------------------------

    def load(
        self,
        contract: SourceContract,
        files: list[Path],
        landing_dir: Path,
        rules: LoadRules,
        now: dt.datetime,
    ) -> SourceLoad:
        """Brings the source's raw files in line with the landed `files`. Nothing is committed when a file
        cannot be read or too many rows are set aside: the caller then fails the source and the previously
        loaded rows stay. Call commit() to make the result visible."""
        stored = self.stored_files(contract.name)
        result = SourceLoad(contract.name)
        seen = set()
        for path in files:
            display = str(path.relative_to(landing_dir)) if path.is_relative_to(landing_dir) else str(path)
            seen.add(display)
            stat = path.stat()
            previous = stored.get(display)
            settled = previous is not None and (previous.recheck_after is None or previous.recheck_after > now)
            settled = settled and not self._stored_before_derived_columns(contract, previous)
            if settled and previous.size_bytes == stat.st_size and previous.modified_ns == stat.st_mtime_ns:
                result.files.append(previous)
                continue
            digest = content_hash(path)
            if settled and previous.content_hash == digest:
                # Touched, not changed: remember the new modification time, read nothing.
                previous.modified_ns = stat.st_mtime_ns
                result.files.append(previous)
                continue
            try:
                result.files.append(self._load_file(contract, path, display, stat, digest, rules, now))
            except LandingError as error:
                result.errors.append(str(error))
        result.removed = sorted(set(stored) - seen)
        if not result.errors:
            self._judge_account_references(contract, result)
        return result

    def _stored_before_derived_columns(self, contract: SourceContract, stored: FileLoad) -> bool:
        """Whether a file was stored by a loader without a contract column, a derived column (pseudonyms,
        comment sentiment) or erasure keys: it is read again."""

        def columns(path: str) -> set[str]:
            return {name for (name,) in self.con.execute("select name from parquet_schema(?)", [path]).fetchall()}

        # A contract column added since (an account's parent) must be in the file for the view to name it.
        wanted = {*contract.column_names, *(name for name, _ in derived_columns(contract))}
        if not wanted <= columns(stored.raw_file):
            return True
        return stored.rejected_file is not None and ERASURE_KEYS_COLUMN not in columns(stored.rejected_file)

    def _load_file(
        self,
        contract: SourceContract,
        path: Path,
        display: str,
        stat: os.stat_result,
        digest: str,
        rules: LoadRules,
        now: dt.datetime,
    ) -> FileLoad:
        is_csv = stage_landing_file(self.con, path, display)
        checked: CheckedFile = check_staged_file(self.con, contract, display, is_csv, rules, now)
        protected = protect_checked_file(self.con, contract, checked.extra_columns, self.pseudonymiser, self.suppressed)
        if protected.rows_erased:
            checked = dataclasses.replace(
                summarise_checked_file(self.con, contract, display, checked.extra_columns),
                unknown_parents=checked.unknown_parents,
            )
        # After the erasures: a comment cleared for mentioning an erased address is not scored.
        score_checked_file(self.con, contract)
        directory = self._source_dir(contract.name)
        directory.mkdir(parents=True, exist_ok=True)
        stem = raw_file_stem(display)
        raw_file = directory / f"{stem}.{digest[:16]}.parquet"
        columns = ", ".join(
            _quote(c)
            for c in (*contract.column_names, *checked.extra_columns, *(name for name, _ in derived_columns(contract)))
        )
        loaded_at = f"timestamp '{now:%Y-%m-%d %H:%M:%S.%f}'"
        self._write(
            f"select {columns}, _source_file, _source_row, {loaded_at} as _loaded_at "
            f"from checked_file where len(_problems) = 0 order by _source_row",
            raw_file,
        )
        rejected_file = None
        if checked.rows_rejected:
            rejected_file = directory / "rejected" / f"{stem}.{digest[:16]}.parquet"
            rejected_file.parent.mkdir(exist_ok=True)
            unit = "line" if is_csv else "row"
            date_column = _quote(contract.event_date_column) if contract.event_date_column else "null"
            self._write(
                f"select {_literal(contract.name)} as source, _source_file as landed_file, "
                f"_source_row as source_row, '{unit} ' || _source_row as location, "
                f"problem.column_name, problem.landed_value, problem.reason, problem.rule, "
                f"cast({date_column} as date) as event_date, {ERASURE_KEYS_COLUMN} "
                f"from (select *, unnest(_problems) as problem from checked_file where len(_problems) > 0) "
                f"order by source_row",
                rejected_file,
            )
        recheck_after = None
        if self.con.execute(
            "select count(*) from (select unnest(_problems) as problem from checked_file where len(_problems) > 0) "
            "where problem.rule = 'future'"
        ).fetchone()[0]:
            # Events set aside for lying in the future are judged again once that future has come.
            recheck_after = now + dt.timedelta(days=1)
        self.con.execute("drop table if exists landing_file")
        self.con.execute("drop table if exists checked_file")
        return FileLoad(
            landed_file=display,
            size_bytes=stat.st_size,
            modified_ns=stat.st_mtime_ns,
            content_hash=digest,
            raw_file=str(raw_file),
            rejected_file=str(rejected_file) if rejected_file else None,
            rows_read=checked.rows_read,
            rows_rejected=checked.rows_rejected,
            first_event_date=checked.first_event_date,
            last_event_date=checked.last_event_date,
            newest_event_at=checked.newest_event_at,
            extra_columns=checked.extra_columns,
            loaded_at=now,
            recheck_after=recheck_after,
            is_new=True,
            values_cleared=protected.values_cleared,
            rows_erased=protected.rows_erased,
            unknown_parents=checked.unknown_parents,
        )

    def _write(self, query: str, destination: Path) -> None:
        partial = destination.with_name(destination.name + ".partial")
        self.con.execute(f"copy ({query}) to {_literal(str(partial))} {PARQUET_OPTIONS}")
        os.replace(partial, destination)

    # --- rows of unknown accounts ------------------------------------------------------------------------

    def _judge_account_references(self, contract: SourceContract, result: SourceLoad) -> None:
        """Sets aside rows whose account the accounts export does not know, in temp table `unknown_rows`.
        Files loaded now are judged in full; for the others only what changed in the accounts is looked at:
        rows of accounts that disappeared are set aside, rows of accounts that appeared come back."""
        self.con.execute(
            f"create or replace temp table unknown_rows as select * from {SCHEMA}.unknown_account_rows "
            f"where source = ? and landed_file in (select unnest(?))",
            [contract.name, [f.landed_file for f in result.files if not f.is_new]],
        )
        reference = contract.account_reference
        if reference is None:
            return
        self.con.execute(
            f"create or replace temp table current_account_ids as select distinct account_id from {SCHEMA}.accounts"
            if self._has_view(ACCOUNT_SOURCE)
            else "create or replace temp table current_account_ids (account_id varchar)"
        )
        self.con.execute(
            "create or replace temp table appeared_account_ids as select account_id from current_account_ids "
            f"except select account_id from {SCHEMA}.checked_account_ids where source = ?",
            [contract.name],
        )
        self.con.execute(
            "create or replace temp table disappeared_account_ids as select account_id "
            f"from {SCHEMA}.checked_account_ids where source = ? except select account_id from current_account_ids",
            [contract.name],
        )
        self.con.execute("delete from unknown_rows where account_id in (select account_id from appeared_account_ids)")
        column = _quote(reference.name)
        date_column = _quote(contract.event_date_column) if contract.event_date_column else "null"

        def find(files: list[str], condition: str) -> None:
            if files:
                self.con.execute(
                    f"insert into unknown_rows select {_literal(contract.name)}, _source_file, _source_row, "
                    f"{column}, cast({date_column} as date) "
                    f"from read_parquet({_file_list(files)}, union_by_name = true) where {condition}"
                )

        find(
            [f.raw_file for f in result.files if f.is_new],
            f"{column} not in (select account_id from current_account_ids)",
        )
        if self.con.execute("select count(*) from disappeared_account_ids").fetchone()[0]:
            find(
                [f.raw_file for f in result.files if not f.is_new],
                f"{column} in (select account_id from disappeared_account_ids)",
            )
        counts = dict(
            self.con.execute("select landed_file, count(*) from unknown_rows group by landed_file").fetchall()
        )
        for file in result.files:
            file.rows_unknown_account = counts.get(file.landed_file, 0)

    def _has_view(self, source: str) -> bool:
        return bool(
            self.con.execute(
                "select count(*) from duckdb_views() where schema_name = ? and view_name = ? and not temporary",
                [SCHEMA, source],
            ).fetchone()[0]
        )

    # --- committing ---------------------------------------------------------------------------------------

    def commit(self, contract: SourceContract, result: SourceLoad, now: dt.datetime) -> None:
        """Makes the load visible in one transaction: manifest, change log, rows of unknown accounts and the
        source's view; then removes the Parquet files no longer named."""
        con = self.con
        stored = self.stored_files(contract.name)
        con.execute("begin transaction")
        try:
            changes = []
            for file in result.files:
                previous = stored.get(file.landed_file)
                if file.is_new:
                    if previous:
                        changes.append((previous, "replaced"))
                    changes.append((file, "loaded"))
            changes += [(stored[name], "removed") for name in result.removed]
            for file, change in changes:
                con.execute(
                    f"insert into {SCHEMA}.landed_file_changes values (?, ?, ?, ?, ?, ?, ?)",
                    [
                        contract.name,
                        file.landed_file,
                        file.content_hash,
                        change,
                        file.first_event_date,
                        file.last_event_date,
                        now,
                    ],
                )
            self._log_account_changes(contract, now)
            con.execute(f"delete from {SCHEMA}.landed_files where source = ?", [contract.name])
            for file in result.files:
                con.execute(
                    f"insert into {SCHEMA}.landed_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        contract.name,
                        file.landed_file,
                        file.size_bytes,
                        file.modified_ns,
                        file.content_hash,
                        file.raw_file,
                        file.rejected_file,
                        file.rows_read,
                        file.rows_rejected,
                        file.rows_unknown_account,
                        file.first_event_date,
                        file.last_event_date,
                        file.newest_event_at,
                        list(file.extra_columns),
                        file.loaded_at,
                        file.recheck_after,
                        file.rows_erased,
                    ],
                )
            con.execute(f"delete from {SCHEMA}.unknown_account_rows where source = ?", [contract.name])
            con.execute(f"insert into {SCHEMA}.unknown_account_rows select * from unknown_rows")
            con.execute(f"delete from {SCHEMA}.checked_account_ids where source = ?", [contract.name])
            if contract.account_reference is not None:
                con.execute(
                    f"insert into {SCHEMA}.checked_account_ids select ?, account_id from current_account_ids",
                    [contract.name],
                )
            self._create_view(contract, result)
            self._create_rejected_view()
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        self.remove_unnamed_files(contract.name)

    def _log_account_changes(self, contract: SourceContract, now: dt.datetime) -> None:
        """Rows that changed sides because accounts appeared or disappeared touch the days they are dated."""
        row = self.con.execute(
            f"""
            with before as (
                select landed_file, source_row, event_date from {SCHEMA}.unknown_account_rows where source = ?
            ),
            changed as (
                (select * from before except select landed_file, source_row, event_date from unknown_rows)
                union all
                (select landed_file, source_row, event_date from unknown_rows except select * from before)
            )
            select count(*), min(event_date), max(event_date) from changed
            """,
            [contract.name],
        ).fetchone()
        if row[0]:
            self.con.execute(
                f"insert into {SCHEMA}.landed_file_changes values (?, null, null, 'accounts', ?, ?, ?)",
                [contract.name, row[1], row[2], now],
            )

    def _create_view(self, contract: SourceContract, result: SourceLoad) -> None:
        """`raw.<source>`: the rows of every landed file that met the contract and name a known account."""
        view = f"{SCHEMA}.{_quote(contract.name)}"
        columns = ", ".join(_quote(c) for c in raw_view_columns(contract, result.files))
        if not result.files:
            derived = derived_columns(contract)
            typed = ", ".join(
                [f"cast(null as {c.duckdb_type}) as {_quote(c.name)}" for c in contract.columns]
                + [f"cast(null as {kind}) as {_quote(name)}" for name, kind in derived]
            )
            self.con.execute(
                f"create or replace view {view} as select {typed}, cast(null as varchar) as _source_file, "
                f"cast(null as bigint) as _source_row, cast(null as timestamp) as _loaded_at limit 0"
            )
            return
        files = _file_list([f.raw_file for f in result.files])
        self.con.execute(f"""
            create or replace view {view} as
            select {columns}
            from read_parquet({files}, union_by_name = true) as landed
            where {known_account_condition(contract)}
        """)

    def _create_rejected_view(self) -> None:
        """`raw.rejected_rows`: every row set aside, of every source, with its reason."""
        files = [
            path
            for (path,) in self.con.execute(
                f"select rejected_file from {SCHEMA}.landed_files where rejected_file is not null order by 1"
            ).fetchall()
        ]
        columns = ", ".join(name for name, _ in REJECTED_COLUMNS)
        rejected = (
            f"select {columns} from read_parquet({_file_list(files)}, union_by_name = true)"
            if files
            else "select "
            + ", ".join(f"cast(null as {kind}) as {name}" for name, kind in REJECTED_COLUMNS)
            + " limit 0"
        )
        self.con.execute(f"""
            create or replace view {SCHEMA}.rejected_rows as
            select {columns}
            from ({rejected}) as contract_rejects
            union all
            select unknown.source, unknown.landed_file, unknown.source_row,
                case when unknown.landed_file like '%.csv' then 'line ' else 'row ' end || unknown.source_row,
                'account_id', unknown.account_id,
                'unknown account: no account ' || unknown.account_id || ' in the accounts export',
                'unknown account', unknown.event_date
            from {SCHEMA}.unknown_account_rows as unknown
        """)

    def recreate_views(self, contract: SourceContract, files: list[FileLoad]) -> None:
        """`raw.<source>` over `files` and `raw.rejected_rows` over the manifest, for a caller that rewrote
        stored files itself (an erasure), inside its transaction."""
        self._create_view(contract, SourceLoad(contract.name, files))
        self._create_rejected_view()

    def remove_unnamed_files(self, source: str) -> None:
        """Deletes Parquet files of `source` that the committed manifest does not name: older versions of
        files that changed, removed files, and anything a killed load left behind."""
        named = {
            path
            for row in self.con.execute(
                f"select raw_file, rejected_file from {SCHEMA}.landed_files where source = ?", [source]
            ).fetchall()
            for path in row
            if path
        }
        directory = self._source_dir(source)
        if not directory.is_dir():
            return
        for path in directory.rglob("*"):
            if path.is_file() and str(path) not in named:
                path.unlink(missing_ok=True)
