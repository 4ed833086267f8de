"""The dbt docs of the project (models, columns, tests, lineage from the landing sources to the dashboard pages),
generated with the paths orchestration/settings.py resolves and served on this machine: `make docs`.

With a warehouse, the catalogue reads its tables (column types as built, row counts); without one (a fresh
clone), the docs are generated from the parsed project alone, and the warehouse is not created.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, load_settings

DEFAULT_PORT = 8080


def dbt_command(*args: str, target_path: Path | None = None) -> list[str]:
    """The dbt executable of this environment on the project, with its profile."""
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR)]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    return command


def generate_args(warehouse_exists: bool) -> list[str]:
    """`dbt docs generate` with a catalogue from the warehouse, or, without one, from the project alone: no
    compilation (some models read settings from the warehouse when they compile), no catalogue queries, so
    nothing opens (and thereby creates) the warehouse file."""
    if warehouse_exists:
        return ["docs", "generate"]
    return ["docs", "generate", "--no-compile", "--empty-catalog", "--no-populate-cache"]


def generate(target_path: Path | None = None) -> Path:
    """Writes index.html, manifest.json and catalog.json; returns the directory holding them."""
    settings = load_settings()
    warehouse_exists = settings.warehouse_path.is_file()
    if not warehouse_exists:
        print(f"No warehouse at {settings.warehouse_path} yet: docs without the built tables' catalogue.")
        # The manifest that the docs show comes from a parse when nothing is compiled.
        subprocess.run(dbt_command("parse", target_path=target_path), check=True)
    completed = subprocess.run(dbt_command(*generate_args(warehouse_exists), target_path=target_path))
    if completed.returncode != 0 and warehouse_exists:
        # Most likely a refresh holds the warehouse (DuckDB allows one writer): docs from the project alone.
        print("dbt could not read the warehouse (is a refresh running?): docs without its catalogue.")
        completed = subprocess.run(dbt_command(*generate_args(False), target_path=target_path))
    completed.check_returncode()
    return target_path or DBT_PROJECT_DIR / "target"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default: this machine only)")
    parser.add_argument("--generate-only", action="store_true", help="write the docs without serving them")
    args = parser.parse_args(argv)
    target = generate()
    if args.generate_only:
        print(f"Docs written to {target}/index.html")
        return 0
    print(f"Serving the dbt docs on http://{args.host}:{args.port} (Ctrl-C stops).")
    serve = dbt_command("docs", "serve", "--no-browser", "--host", args.host, "--port", str(args.port))
    return subprocess.run(serve).returncode


if __name__ == "__main__":
    sys.exit(main())
