"""python -m orchestration.customer_reports --account ACC-00042 [--out DIR] [--pdf], or --all.

Reads the published serving file (HEALTHSCORE_SERVING; `make run` publishes it) and writes one HTML page per
account into DIR (default: warehouse/reports), named <account>_<score date>.html; --pdf prints each to a PDF
beside it through a locally installed Chromium. Exit code 1 when an account got no report (the reason is printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.settings import REPO_ROOT

DEFAULT_OUT_DIR = REPO_ROOT / "warehouse" / "reports"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--account", action="append", help="account id; repeat for several")
    which.add_argument("--all", action="store_true", help="every current (not churned, scored) account")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help=f"output folder (default: {DEFAULT_OUT_DIR})")
    parser.add_argument("--pdf", action="store_true", help="also print each report to PDF with a local Chromium")
    args = parser.parse_args(argv)

    from orchestration.customer_reports.browser import ChromiumMissing
    from orchestration.customer_reports.config import ReportConfigError
    from orchestration.customer_reports.data import ReportDataError
    from orchestration.customer_reports.generate import generate_reports
    from orchestration.settings import load_settings

    serving = load_settings().serving_path
    try:
        result = generate_reports(serving, args.out, None if args.all else args.account, pdf=args.pdf)
    except (ReportConfigError, ReportDataError, ChromiumMissing, RuntimeError) as error:
        print(f"No reports written: {error}", file=sys.stderr)
        return 1
    for account_id, reason in result.refused.items():
        print(f"No report for {account_id}: {reason}", file=sys.stderr)
    print(
        f"{len(result.written)} report(s) written to {args.out}"
        + (f", {len(result.pdfs)} PDF(s) printed" if args.pdf else "")
        + (f"; {len(result.refused)} account(s) without a report" if result.refused else "")
        + "."
    )
    return 1 if result.refused else 0


if __name__ == "__main__":
    sys.exit(main())
