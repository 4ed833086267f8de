"""Serves the dashboard: python -m orchestration.dashboard [--port 8501] [--address 127.0.0.1].

Headless, without usage statistics, without opening a browser and without watching the source files: it
reads the serving file named by HEALTHSCORE_SERVING (default warehouse/serving/healthscore.duckdb).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from streamlit.web import cli

from orchestration.settings import load_settings

APP = Path(__file__).resolve().parent / "app.py"
DEFAULT_PORT = 8501
# Only this machine by default: the dashboard has no login.
DEFAULT_ADDRESS = "127.0.0.1"


def streamlit_arguments(port: int, address: str) -> list[str]:
    """The `streamlit run` command line: every setting on it, so no config file or home directory matters."""
    return [
        "streamlit",
        "run",
        str(APP),
        f"--server.port={port}",
        f"--server.address={address}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
        "--theme.base=light",
        "--theme.primaryColor=#2f6db3",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m orchestration.dashboard", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("HEALTHSCORE_DASHBOARD_PORT", DEFAULT_PORT)))
    parser.add_argument("--address", default=DEFAULT_ADDRESS)
    options = parser.parse_args(argv)
    serving = load_settings().serving_path
    print(f"Dashboard on http://{options.address}:{options.port} reading {serving} (read-only)", flush=True)

    sys.argv = streamlit_arguments(options.port, options.address)
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
