"""Writes the reports of the requested accounts from the serving file into a folder, and optionally their PDFs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestration.customer_reports import browser
from orchestration.customer_reports.config import ReportSettings, Wording, load_settings, load_wording
from orchestration.customer_reports.data import ReportDataError, connect, current_accounts, load_accounts
from orchestration.customer_reports.render import render_report, report_file_name


@dataclass
class GenerationResult:
    written: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    # account id -> why it has no report
    refused: dict[str, str] = field(default_factory=dict)


def generate_reports(
    serving: Path,
    out_dir: Path,
    account_ids: list[str] | None = None,
    pdf: bool = False,
    settings: ReportSettings | None = None,
    wording: Wording | None = None,
) -> GenerationResult:
    """Reports for `account_ids`, or for every current account when None. An account that cannot have one
    (unknown, churned, unscored, yellow or red without an agreed step) is listed with the reason and the
    others are still written; a wrong settings or wording file stops everything (ReportConfigError)."""
    settings = settings or load_settings()
    wording = wording or load_wording(settings)
    if pdf:
        browser.find_chromium()  # fail before rendering anything when PDFs were asked for and cannot be printed
    result = GenerationResult()
    out_dir.mkdir(parents=True, exist_ok=True)
    with connect(serving) as con:
        wanted = account_ids if account_ids is not None else current_accounts(con)
        for account_id, data in load_accounts(con, wanted, settings.chart_months, settings.language_for):
            try:
                if isinstance(data, ReportDataError):
                    raise data
                report = render_report(data, settings, wording)
            except ReportDataError as error:
                result.refused[account_id] = str(error)
                continue
            page = out_dir / report_file_name(data)
            page.write_text(report.html, encoding="utf-8")
            result.written.append(page)
            if pdf:
                result.pdfs.append(browser.print_pdf(page, page.with_suffix(".pdf")))
    return result
