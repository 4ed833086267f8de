"""Reads the serving file read-only, and sees a newly published one.

Publishing builds a new file and renames it over the old one, so the path then names another file (another
inode). A connection stays open on the file it was opened on; each query first compares the path's identity
(inode, modification time) with the connection's and reopens when they differ. Query results are cached per
file identity, so a new publication is read on the next page load and the old results are never mixed in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from orchestration.settings import load_settings


class ServingFileMissing(RuntimeError):
    """No publication yet: `make run` publishes the serving file."""


@dataclass(frozen=True)
class FileIdentity:
    inode: int
    modified_ns: int


def serving_path() -> Path:
    return load_settings().serving_path


def file_identity(path: Path) -> FileIdentity:
    try:
        status = os.stat(path)
    except FileNotFoundError as missing:
        raise ServingFileMissing(
            f"no published scores at {path}: run `make run` first (it publishes the serving file)"
        ) from missing
    return FileIdentity(status.st_ino, status.st_mtime_ns)


class _ServingConnection:
    """One read-only connection per published file, shared by the app's sessions through cursors.

    DuckDB keeps one database per path in a process while any connection to it is open, so a connect() to the
    same path would return the old file's database: the old connection is closed first, once no query runs on
    it any more."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._identity: FileIdentity | None = None
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._queries_running = 0

    @contextmanager
    def cursor(self, path: Path, identity: FileIdentity) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._changed:
            if self._connection is None or identity != self._identity:
                self._changed.wait_for(lambda: self._queries_running == 0)
                if self._connection is not None:
                    self._connection.close()
                self._connection = duckdb.connect(str(path), read_only=True)
                self._identity = identity
            cursor = self._connection.cursor()
            self._queries_running += 1
        try:
            yield cursor
        finally:
            cursor.close()
            with self._changed:
                self._queries_running -= 1
                self._changed.notify_all()


@st.cache_resource
def _serving_connection() -> _ServingConnection:
    return _ServingConnection()


@st.cache_data(show_spinner=False, max_entries=500)
def _query(sql: str, params: tuple, path: str, identity: FileIdentity) -> pd.DataFrame:
    with _serving_connection().cursor(Path(path), identity) as cursor:
        return cursor.execute(sql, list(params)).df()


def query(sql: str, params: tuple = ()) -> pd.DataFrame:
    """The rows of `sql` on the current publication."""
    path = serving_path()
    return _query(sql, tuple(params), str(path), file_identity(path))


def has_table(table: str) -> bool:
    """Whether the publication holds marts.<table> (a mart may be newer than the last publication)."""
    found = query(
        "select count(*) as tables from information_schema.tables where table_schema = 'marts' and table_name = ?",
        (table,),
    )
    return bool(found.loc[0, "tables"])


def health_bands(config_version: str) -> pd.DataFrame:
    """The band limits of a scoring configuration (seeds/health_bands.csv as it was then): health_band,
    lower_score, upper_score."""
    return query(
        """
        select
            split_part(config_row, '|', 1) as health_band,
            cast(split_part(config_row, '|', 2) as double) as lower_score,
            cast(split_part(config_row, '|', 3) as double) as upper_score
        from marts.scorecard_config_versions
        where seed_name = 'health_bands' and config_version = ?
        """,
        (config_version,),
    )
