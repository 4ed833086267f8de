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


# What `dbt docs generate` is asked for, best first. Compiling shows each model's SQL as it runs, but some models
# read settings from the warehouse when they compile, which fails while a refresh holds the warehouse or when it
# was built by older code (a seed it lacks); without compiling, the catalogue still reads the built tables. From
# the project alone, no catalogue query opens (and thereby creates) the warehouse file.
COMPILED = ["docs", "generate"]
WITH_CATALOGUE = ["docs", "generate", "--no-compile"]
PROJECT_ONLY = ["docs", "generate", "--no-compile", "--empty-catalog", "--no-populate-cache"]


def generate_attempts(warehouse_exists: bool) -> list[list[str]]:
    return [COMPILED, WITH_CATALOGUE, PROJECT_ONLY] if warehouse_exists else [PROJECT_ONLY]


def generate(target_path: Path | None = None) -> Path:
    """Writes index.html, manifest.json and catalog.json; returns the directory holding them."""
    settings = load_settings()
    warehouse_exists = settings.warehouse_path.is_file()
    if not warehouse_exists:
        print(f"No warehouse at {settings.warehouse_path} yet (make run builds it): docs from the project alone.")
    attempts = generate_attempts(warehouse_exists)
    for number, args in enumerate(attempts, start=1):
        if "--no-compile" in args:
            # Without compiling, the docs show the manifest of a parse.
            subprocess.run(dbt_command("parse", target_path=target_path), check=True)
        if subprocess.run(dbt_command(*args, target_path=target_path)).returncode == 0:
            return target_path or DBT_PROJECT_DIR / "target"
        if number < len(attempts):
            print(f"dbt docs generate failed (see above); trying: dbt {' '.join(attempts[number])}")
    raise SystemExit("dbt could not generate the docs; see dbt's messages above.")


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
