"""Screenshots of two sample reports for the docs: docs/images/health_report_red.png and health_report_green.png.

python -m orchestration.customer_reports.screenshots [--out docs/images]   (make report-screenshots)

The accounts are picked from the serving file, not named: for each of the lowest and the highest band, the
current account closest to the middle of the band (a typical one, not an edge case), a German report for the
lowest band and an English one for the highest where the portfolio has such accounts. Needs a local Chromium.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

from orchestration.customer_reports import browser
from orchestration.customer_reports.config import ReportSettings, load_settings, load_wording
from orchestration.customer_reports.data import connect, load_account
from orchestration.customer_reports.render import render_report, report_file_name
from orchestration.settings import REPO_ROOT

DEFAULT_OUT_DIR = REPO_ROOT / "docs" / "images"
WIDTH_PIXELS = 1000
# A palette this size keeps anti-aliased text smooth and the PNG about a third of its true-colour size.
PALETTE_COLOURS = 256


def pick_examples(serving: Path, settings: ReportSettings) -> dict[str, str]:
    """band -> account id, for the lowest and the highest band: the current account closest to the middle of
    the band, for the lowest in a language other than the default (German), for the highest in the default
    (English), when the portfolio has such an account."""
    other = next((code for code in settings.languages if code != settings.default_language), settings.default_language)
    with connect(serving) as con:
        rows = con.execute(
            "select account_id, country_code, health_band, cast(health_score as double) "
            "from marts.account_health_scores where not is_churned and health_score is not null"
        ).fetchall()
        config_version = con.execute(
            "select config_version from marts.account_health_scores where not is_churned "
            "group by config_version order by count(*) desc limit 1"
        ).fetchone()[0]
        bands = sorted(
            (
                row[0].split("|")[:3]
                for row in con.execute(
                    "select config_row from marts.scorecard_config_versions "
                    "where config_version = ? and seed_name = 'health_bands'",
                    [config_version],
                ).fetchall()
            ),
            key=lambda fields: float(fields[1]),
        )
    examples = {}
    for (band, low, high), language in ((bands[0], other), (bands[-1], settings.default_language)):
        middle = (float(low) + float(high)) / 2
        in_band = [row for row in rows if row[2] == band]
        in_language = [row for row in in_band if settings.language_for(row[1]) == language]
        candidates = in_language or in_band
        if candidates:
            examples[band] = min(candidates, key=lambda row: (abs(row[3] - middle), row[0]))[0]
    return examples


def write_screenshots(serving: Path, out_dir: Path) -> list[Path]:
    settings = load_settings()
    wording = load_wording(settings)
    browser.find_chromium()
    examples = pick_examples(serving, settings)
    written = []
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as pages, connect(serving) as con:
        for band, account_id in examples.items():
            data = load_account(con, account_id, settings.chart_months, settings.language_for)
            page = Path(pages) / report_file_name(data)
            page.write_text(render_report(data, settings, wording).html, encoding="utf-8")
            png = browser.screenshot(page, out_dir / f"health_report_{band}.png", WIDTH_PIXELS)
            with Image.open(png) as image:
                small = image.convert("RGB").quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
            small.save(png, optimize=True)
            print(f"{png}: {account_id} ({band}, {data.language})")
            written.append(png)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help=f"folder (default: {DEFAULT_OUT_DIR})")
    args = parser.parse_args(argv)
    from orchestration.settings import load_settings as load_paths

    try:
        write_screenshots(load_paths().serving_path, args.out)
    except (browser.ChromiumMissing, RuntimeError, LookupError) as error:
        print(f"No screenshots: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
