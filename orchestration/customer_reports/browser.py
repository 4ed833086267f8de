"""PDFs and screenshots of rendered reports through a locally installed Chromium in headless mode.

Nothing is downloaded: without a Chromium on this machine the call fails with a message saying how to get one
(the distribution's package). The page loads from a local file and has no external resources, so Chromium
needs no network either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# Where distributions install it, in the order they are tried; HEALTHSCORE_CHROMIUM overrides.
CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
# A4 at 96 CSS pixels per inch: 210 x 297 mm.
A4_CSS_PIXELS = (794, 1123)
# Long enough for a cold start on a busy machine, short enough that a hung browser does not block a batch.
CHROMIUM_TIMEOUT_SECONDS = 120


class ChromiumMissing(RuntimeError):
    """No Chromium on this machine."""


def find_chromium() -> str:
    configured = os.environ.get("HEALTHSCORE_CHROMIUM", "").strip()
    if configured:
        if shutil.which(configured):
            return shutil.which(configured)
        raise ChromiumMissing(f"HEALTHSCORE_CHROMIUM={configured!r} is not an executable")
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    raise ChromiumMissing(
        "printing PDFs and screenshots needs a local Chromium, and none was found (looked for "
        f"{', '.join(CHROMIUM_NAMES)} on PATH). Install your distribution's package (Debian/Ubuntu: "
        "`apt-get install chromium`) or point HEALTHSCORE_CHROMIUM at one; the HTML reports need no browser."
    )


def _run_headless(arguments: list[str], page: Path, output: Path) -> None:
    command = [
        find_chromium(),
        "--headless",
        "--disable-gpu",
        # Chromium refuses to start as root with its sandbox (containers, CI); elsewhere the sandbox stays on.
        *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        *arguments,
        page.resolve().as_uri(),
    ]
    output.unlink(missing_ok=True)
    result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_SECONDS)
    if result.returncode != 0 or not output.is_file() or output.stat().st_size == 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"Chromium could not write {output} (exit code {result.returncode}): {' / '.join(detail)}")


def print_pdf(page: Path, pdf: Path) -> Path:
    """Prints `page` to `pdf` on A4 (the page's own @page rule), without the browser's header and footer."""
    _run_headless([f"--print-to-pdf={pdf.resolve()}", "--no-pdf-header-footer"], page, pdf)
    return pdf


def screenshot(page: Path, png: Path, width_pixels: int = 1000) -> Path:
    """A PNG of the page's A4 sheet, `width_pixels` wide (the sheet is rendered at A4 size and scaled)."""
    width, height = A4_CSS_PIXELS
    scale = width_pixels / width
    _run_headless(
        [
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            f"--force-device-scale-factor={scale:.4f}",
        ],
        page,
        png,
    )
    return png
