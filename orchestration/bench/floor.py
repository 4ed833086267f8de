"""The benchmark floor (issue 7): the project's daily scores from one hand-written DuckDB query.

`make bench` reports the project's full refresh as a multiple of this floor. `run_floor` executes
floor.sql, which reads the landing files and the scoring seeds directly, into the table `floor_scores`;
`compare_with_project` checks it against `marts.account_health_history` of a warehouse the project built
from the same files, so the floor is known to compute the same scores before its time means anything.
The one thing no SQL can do, the sentiment of survey comments, is done in Python first, as the loader does it,
and counts in the floor's time.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.defs.ingestion.comment_sentiment import score_comments
from orchestration.defs.ingestion.landing import find_landing_files

FLOOR_SQL = Path(__file__).with_name("floor.sql")
FLOOR_TABLE = "floor_scores"
PROJECT_HISTORY = "marts.account_health_history"
# Scores are fixed-point with six decimals on both sides; the tolerance only forgives a last-digit slip.
SCORE_TOLERANCE = 0.001

# The floor.sql parameter of each source and the one file format it reads the source in: the
# simulator's layout (see orchestration/sample_data/writer.py).
SOURCE_PARAMETERS = {
    "accounts": ("accounts_files", ".csv"),
    "usage_events": ("usage_event_files", ".parquet"),
    "support_tickets": ("support_ticket_files", ".csv"),
    "invoices": ("invoice_files", ".csv"),
    "survey_responses": ("survey_response_files", ".csv"),
    "milestones": ("milestone_files", ".csv"),
    "churn_events": ("churn_event_files", ".csv"),
    "csm_ratings": ("csm_rating_files", ".csv"),
}


@dataclass(frozen=True)
class FloorResult:
    """Where the floor's scores live and what computing them took."""

    database: Path
    table: str
    rows: int
    seconds: float
    last_score_date: dt.date | None


@dataclass(frozen=True)
class Disagreement:
    account_id: str
    score_date: dt.date
    reason: str

    def __str__(self) -> str:
        return f"{self.account_id} {self.score_date}: {self.reason}"


@dataclass(frozen=True)
class Comparison:
    """Floor against project on the compared account-days (a sample, or all of them)."""

    compared: int
    agreeing: int
    disagreeing: int
    floor_rows: int
    project_rows: int
    first_disagreements: tuple[Disagreement, ...]

    @property
    def agrees(self) -> bool:
        return self.compared > 0 and self.disagreeing == 0


def landing_parameters(landing_dir: Path) -> dict[str, list[str]]:
    """The landing files of every source as floor.sql parameters, found as the ingestion finds them."""
    parameters = {}
    for source, (parameter, suffix) in SOURCE_PARAMETERS.items():
        files = find_landing_files(landing_dir, source)
        if not files:
            raise FileNotFoundError(f"{landing_dir}: no {source} export; the floor reads every source")
        other_formats = [path.name for path in files if path.suffix.lower() != suffix]
        if other_formats:
            raise ValueError(f"the floor reads {source} as {suffix} only, found {', '.join(other_formats)}")
        parameters[parameter] = [str(path) for path in files]
    return parameters


def register_comment_scores(con: duckdb.DuckDBPyConnection, survey_files: list[str]) -> int:
    """The table `comment_scores` floor.sql reads: the sentiment of every distinct comment of the survey
    exports, scored once each as the loader scores them. Returns the number of comments scored."""
    comments = [
        text
        for (text,) in con.execute(
            "select distinct comment from read_csv($files, header = true, all_varchar = true) "
            "where comment is not null",
            {"files": survey_files},
        ).fetchall()
    ]
    scored = {text: result for text, result in score_comments(comments).items() if result is not None}
    con.register(
        "comment_scores",
        pa.table(
            {
                "comment": pa.array(list(scored), pa.string()),
                "sentiment": pa.array([result.sentiment for result in scored.values()], pa.decimal128(5, 4)),
            }
        ),
    )
    return len(comments)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run_floor(
    landing_dir: Path,
    seeds_dir: Path,
    as_of: dt.date | None,
    database: Path | None = None,
    memory_limit: str = "3GB",
    threads: int = 2,
) -> FloorResult:
    """Computes the floor's scores into `floor_scores` of `database` (a new temporary file when None).

    `as_of` is the last day scored (None: the latest usage day, as the project does). DuckDB gets
    `memory_limit` and a spill directory next to the database, so a large portfolio spills to disk
    instead of exhausting memory. The time is that of the query and of scoring the comments it needs, files
    read included.
    """
    parameters = {**landing_parameters(landing_dir), "seeds_dir": str(seeds_dir), "as_of": as_of}
    if database is None:
        database = Path(tempfile.mkdtemp(prefix="healthscore-floor-")) / "floor.duckdb"
    database.parent.mkdir(parents=True, exist_ok=True)
    spill_dir = database.with_name(database.name + ".spill")
    query = FLOOR_SQL.read_text()

    with duckdb.connect(str(database)) as con:
        con.execute(f"set memory_limit = {_sql_text(memory_limit)}")
        con.execute(f"set threads = {int(threads)}")
        con.execute(f"set temp_directory = {_sql_text(str(spill_dir))}")
        # The ingestion reads timestamps as UTC and the models take their UTC day.
        con.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        register_comment_scores(con, parameters["survey_response_files"])
        con.execute(f"create or replace table {FLOOR_TABLE} as\n{query}", parameters)
        seconds = time.perf_counter() - started
        rows, last_score_date = con.execute(f"select count(*), max(score_date) from {FLOOR_TABLE}").fetchone()
    return FloorResult(
        database=database, table=FLOOR_TABLE, rows=rows, seconds=seconds, last_score_date=last_score_date
    )


# Which account-days to compare: a reproducible sample of the project's history (its order comes from a
# hash of the key and the seed, not from a random generator), or every account-day of either side.
_SAMPLED_KEYS = f"""
    select account_id, score_date
    from project.{PROJECT_HISTORY}
    order by hash(account_id, score_date, $seed), account_id, score_date
    limit $sample_size
"""
_ALL_KEYS = f"""
    select account_id, score_date from project.{PROJECT_HISTORY}
    union
    select account_id, score_date from floor_db.{FLOOR_TABLE}
"""

_COMPARED = """
    with compared as (
        select
            keys.account_id,
            keys.score_date,
            floor_scores.account_id is not null as in_floor,
            history.account_id is not null as in_project,
            floor_scores.health_score as floor_score,
            history.health_score as project_score,
            floor_scores.score_status as floor_status,
            history.score_status as project_status,
            floor_scores.health_band as floor_band,
            history.health_band as project_band
        from ({keys}) as keys
        left join floor_db.{floor_table} as floor_scores
            on keys.account_id = floor_scores.account_id
            and keys.score_date = floor_scores.score_date
        left join project.{history} as history
            on keys.account_id = history.account_id
            and keys.score_date = history.score_date
    )

    select
        *,
        case
            when not in_floor then 'missing in the floor'
            when not in_project then 'missing in the project'
            when floor_status is distinct from project_status
                then 'status ' || floor_status || ' in the floor, ' || project_status || ' in the project'
            when (floor_score is null) <> (project_score is null)
                or abs(floor_score - project_score) > {tolerance}
                then 'score ' || coalesce(cast(floor_score as varchar), 'none') || ' in the floor, '
                    || coalesce(cast(project_score as varchar), 'none') || ' in the project'
            when floor_band is distinct from project_band
                then 'band ' || coalesce(floor_band, 'none') || ' in the floor, '
                    || coalesce(project_band, 'none') || ' in the project'
        end as disagreement
    from compared
"""


def compare_with_project(
    floor_db: Path,
    warehouse: Path,
    sample_size: int | None = 2000,
    seed: int = 0,
    shown: int = 10,
) -> Comparison:
    """Compares the floor's scores with the project's history on `sample_size` account-days drawn
    reproducibly (by `seed`) from the project's history, or on every account-day of both when None.

    An account-day agrees when both have it, with the same status (scored or not), health scores within
    0.001 and the same band. The first `shown` disagreements, by account and day, come with a reason.
    """
    keys = _ALL_KEYS if sample_size is None else _SAMPLED_KEYS
    query = _COMPARED.format(keys=keys, floor_table=FLOOR_TABLE, history=PROJECT_HISTORY, tolerance=SCORE_TOLERANCE)
    parameters = {} if sample_size is None else {"seed": seed, "sample_size": sample_size}
    with duckdb.connect() as con:
        con.execute(f"attach {_sql_text(str(floor_db))} as floor_db (read_only)")
        con.execute(f"attach {_sql_text(str(warehouse))} as project (read_only)")
        con.execute(f"create temp table compared as {query}", parameters)
        compared, disagreeing = con.execute("select count(*), count(disagreement) from compared").fetchone()
        first = con.execute(
            "select account_id, score_date, disagreement from compared where disagreement is not null "
            "order by account_id, score_date limit ?",
            [shown],
        ).fetchall()
        floor_rows = con.execute(f"select count(*) from floor_db.{FLOOR_TABLE}").fetchone()[0]
        project_rows = con.execute(f"select count(*) from project.{PROJECT_HISTORY}").fetchone()[0]
    return Comparison(
        compared=compared,
        agreeing=compared - disagreeing,
        disagreeing=disagreeing,
        floor_rows=floor_rows,
        project_rows=project_rows,
        first_disagreements=tuple(Disagreement(*row) for row in first),
    )
