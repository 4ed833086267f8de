"""Where things live. Every path the project uses is resolved here, from environment variables.

HEALTHSCORE_WAREHOUSE    DuckDB file the pipeline writes (default: warehouse/healthscore.duckdb)
HEALTHSCORE_LANDING_DIR  directory holding the raw source files (default: seeds/landing, the sample)
HEALTHSCORE_SERVING      read-only DuckDB file BI tools query (default: warehouse/serving/healthscore.duckdb)
HEALTHSCORE_RAW_DIR      checked landed files as Parquet (default: raw/ next to the warehouse file)
HEALTHSCORE_CRM_EXPORT_DIR  files for HubSpot and Salesforce imports (default: exports/crm/ next to the warehouse file)
HEALTHSCORE_MEMORY_LIMIT memory DuckDB may use before it spills to disk, for loading and for dbt (default: 2500MB)
HEALTHSCORE_DBT_TARGET   the engine dbt builds the models on: duckdb (default) or spark (docs/scaling.md)
HEALTHSCORE_SPARK_DIR    tables and metastore of the local spark target (default: spark/ next to the warehouse file)
DAGSTER_HOME             run history and logs (default: .dagster, set by the Makefile)
HEALTHSCORE_WAREHOUSE_WAIT_SECONDS  how long a run waits for another one to release the warehouse (default: 3600)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
STAGING_MODELS_DIR = DBT_PROJECT_DIR / "models" / "staging"
SAMPLE_LANDING_DIR = REPO_ROOT / "seeds" / "landing"
# Long enough for a refresh at volume to finish, short enough that a stuck run is noticed the same morning.
DEFAULT_WAREHOUSE_WAIT_SECONDS = 3600.0


DEFAULT_MEMORY_LIMIT = "2500MB"
# The outputs of dbt_project/profiles.yml: the engines dbt can build the models on.
DBT_TARGETS = ("duckdb", "spark")


@dataclass(frozen=True)
class Settings:
    warehouse_path: Path
    landing_dir: Path
    serving_path: Path
    raw_dir: Path
    memory_limit: str
    crm_export_dir: Path
    dbt_target: str = "duckdb"
    spark_dir: Path | None = None

    @property
    def spill_dir(self) -> Path:
        """Where DuckDB writes what does not fit in memory_limit."""
        return self.warehouse_path.parent / "spill"


def _absolute(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def load_settings() -> Settings:
    """Reads the environment, and puts this environment's dbt executable first on PATH so that dagster-dbt finds
    it however Python was started. The warehouse reaches dbt through the WarehouseResource (dbt vars), not
    through this process's environment."""
    warehouse = _absolute(os.environ.get("HEALTHSCORE_WAREHOUSE", str(REPO_ROOT / "warehouse" / "healthscore.duckdb")))
    landing = _absolute(os.environ.get("HEALTHSCORE_LANDING_DIR", str(SAMPLE_LANDING_DIR)))
    serving = _absolute(
        os.environ.get("HEALTHSCORE_SERVING", str(REPO_ROOT / "warehouse" / "serving" / "healthscore.duckdb"))
    )
    raw = _absolute(os.environ.get("HEALTHSCORE_RAW_DIR", str(warehouse.parent / "raw")))
    crm_exports = _absolute(os.environ.get("HEALTHSCORE_CRM_EXPORT_DIR", str(warehouse.parent / "exports" / "crm")))
    spark_dir = _absolute(os.environ.get("HEALTHSCORE_SPARK_DIR", str(warehouse.parent / "spark")))
    settings = Settings(
        warehouse_path=warehouse,
        landing_dir=landing,
        serving_path=serving,
        raw_dir=raw,
        memory_limit=os.environ.get("HEALTHSCORE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        crm_export_dir=crm_exports,
        dbt_target=dbt_target(),
        spark_dir=spark_dir,
    )
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    return settings


def dbt_target() -> str:
    """The output of dbt_project/profiles.yml that dbt builds on (HEALTHSCORE_DBT_TARGET, default duckdb)."""
    target = os.environ.get("HEALTHSCORE_DBT_TARGET", "").strip() or DBT_TARGETS[0]
    if target not in DBT_TARGETS:
        raise ValueError(f"HEALTHSCORE_DBT_TARGET must be one of {', '.join(DBT_TARGETS)}, not {target!r}")
    return target


def warehouse_wait_seconds() -> float:
    """How long a run waits for another run (or process) to release the warehouse before it gives up."""
    value = os.environ.get("HEALTHSCORE_WAREHOUSE_WAIT_SECONDS", "").strip()
    if not value:
        return DEFAULT_WAREHOUSE_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0:  # negative, or not a number at all
        raise ValueError(f"HEALTHSCORE_WAREHOUSE_WAIT_SECONDS must be a number of seconds, not {value!r}")
    return seconds
