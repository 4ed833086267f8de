"""Dagster's run history on SQLite, with its connections kept open.

Dagster's SQLite event log opens a database connection for every event it stores, commits, and closes it
again. On this kind of disk each commit waits for the disk and each close writes the write-ahead log back
into the database: about 7 ms per event, and a refresh stores about a thousand events (every dbt test is
an asset check), so the run history cost more than scoring a small portfolio. This storage keeps one
connection per database open and lets SQLite commit to its write-ahead log without waiting for the disk
(synchronous=NORMAL): a killed process loses nothing that was stored; a power failure may lose the last
events of a run but never corrupts the history. Everything else is Dagster's own SQLite storage, in the
same files ($DAGSTER_HOME/history/runs), so `make dev` and `make run` share the history as before.

Configured in orchestration/dagster.yaml, which `make` copies into DAGSTER_HOME.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import create_db_conn_string
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

# A long-lived process (the UI) reads many runs; keep the connections of the most recent few.
OPEN_DATABASES = 8
BUSY_TIMEOUT_SECONDS = 30


def _commit_without_waiting_for_the_disk(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose connections stay open between events."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Before Dagster's own set-up, which already connects when it creates a new history.
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> PooledSqliteEventLogStorage:
        base_dir = config_value.get("base_dir")
        if base_dir is None:
            # The same place Dagster's default SQLite storage uses, so the history carries over.
            home = os.environ.get("DAGSTER_HOME")
            if not home:
                raise ValueError(
                    "orchestration.run_history needs DAGSTER_HOME (or base_dir in dagster.yaml) to find the run history"
                )
            base_dir = os.path.join(home, "history", "runs")
        return cls(base_dir=base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                create_db_conn_string(self._base_dir, shard),
                # Dagster nests a second connection to a database inside a first now and then.
                pool_size=2,
                max_overflow=2,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            if len(self._engines) > OPEN_DATABASES:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
        self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()
