"""What the warehouse keeps about erasures, in schema `privacy`, none of it in clear and none of it published.

privacy.suppressed_identifiers  one row per erased e-mail address or account: the keyed hash and its kind.
                                The loader sets aside every landed row that names one, on every later load.
privacy.erasures                one row per erasure run: when, what kind, the keyed hash, who, rows removed.
privacy.erasure_effects         rows removed and values cleared per erasure and place (table, raw source,
                                serving table).
privacy.pseudonymisation_key    the fingerprint of the key the pseudonyms and hashes were made with, so that
                                a load or erasure with another key fails instead of letting erased people
                                back in unnoticed.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from orchestration.defs.privacy.keys import KEY_FILE_VARIABLE, KEY_VARIABLE, PseudonymisationKeyError, Pseudonymiser

SCHEMA = "privacy"


def ensure_privacy_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"""
        create table if not exists {SCHEMA}.suppressed_identifiers (
            identifier_hash varchar primary key, identifier_kind varchar, erasure_id varchar, suppressed_at timestamp
        )
    """)
    con.execute(f"""
        create table if not exists {SCHEMA}.erasures (
            erasure_id varchar primary key, erased_at timestamp, identifier_kind varchar, identifier_hash varchar,
            performed_by varchar, request_reference varchar, started_from varchar, rows_removed bigint,
            values_cleared bigint
        )
    """)
    con.execute(f"""
        create table if not exists {SCHEMA}.erasure_effects (
            erasure_id varchar, place varchar, rows_removed bigint, values_cleared bigint
        )
    """)
    con.execute(
        f"create table if not exists {SCHEMA}.pseudonymisation_key (key_fingerprint varchar, first_used_at timestamp)"
    )


def has_key_fingerprint(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse was already loaded with a key (so must never get a new one)."""
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = 'pseudonymisation_key' "
            "and database_name = current_database()",
            [SCHEMA],
        ).fetchone()[0]
        and con.execute(f"select count(*) from {SCHEMA}.pseudonymisation_key").fetchone()[0]
    )


def check_key(con: duckdb.DuckDBPyConnection, pseudonymiser: Pseudonymiser, now: dt.datetime) -> None:
    """Records the key's fingerprint on first use; afterwards refuses any other key. Call in a writing
    connection after ensure_privacy_schema()."""
    recorded = [row[0] for row in con.execute(f"select key_fingerprint from {SCHEMA}.pseudonymisation_key").fetchall()]
    if not recorded:
        con.execute(f"insert into {SCHEMA}.pseudonymisation_key values (?, ?)", [pseudonymiser.fingerprint, now])
    elif pseudonymiser.fingerprint not in recorded:
        raise PseudonymisationKeyError(
            f"The pseudonymisation key from {pseudonymiser.source} is not the one this warehouse's pseudonyms and "
            "list of erased people were made with; with another key, erased people would load again unnoticed. "
            f"Set {KEY_VARIABLE} (or {KEY_FILE_VARIABLE}) to the original key, or put the warehouse's key file "
            "back next to it (a copy of a warehouse needs its key file)."
        )


def suppressed_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(f"select identifier_hash from {SCHEMA}.suppressed_identifiers").fetchall()}
