"""Turns an account's published figures into its report: picks strengths and risks, words them in the
account's language and renders the Jinja2 template (autoescaped) into one self-contained HTML page."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from orchestration.customer_reports.chart import band_scale, score_chart
from orchestration.customer_reports.config import (
    MEASURES_FILE,
    TEXTS_FILE,
    HighlightRules,
    ReportConfigError,
    ReportSettings,
    Wording,
)
from orchestration.customer_reports.data import AccountReportData, MeasureResult, ReportDataError, months_before
from orchestration.customer_reports.formatting import Formatter, rounded

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "health_report.html.j2"
TREND_ARROWS = {
    "improving": "\N{NORTH EAST ARROW}",
    "declining": "\N{SOUTH EAST ARROW}",
    "stable": "\N{RIGHTWARDS ARROW}",
}


@functools.cache
def _template() -> jinja2.Template:
    """The page template, compiled once per process (compiling took most of a report's time)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return environment.get_template(TEMPLATE)


@dataclass(frozen=True)
class Highlight:
    measure: str
    label: str
    sentence: str


def pick_highlights(measures: list[MeasureResult], wording: Wording, rules: HighlightRules):
    """(strengths, risks): the shown measures earning the most points among those from `strength_from_points`,
    and those costing the most among those below `risk_below_points`; ties by measure name."""
    shown = []
    for result in measures:
        measure_wording = wording.measures.get(result.measure)
        if measure_wording is None:
            raise ReportConfigError(
                f"{MEASURES_FILE}: no row for measure {result.measure}: add its customer wording "
                "(or is_shown_to_customer=false with the reason)"
            )
        if measure_wording.is_shown_to_customer:
            shown.append(result)
    strengths = sorted(
        (m for m in shown if m.measure_points >= rules.strength_from_points), key=lambda m: (-m.contribution, m.measure)
    )[: rules.max_strengths]
    risks = sorted(
        (m for m in shown if m.measure_points < rules.risk_below_points and m.points_lost > 0),
        key=lambda m: (-m.points_lost, m.measure),
    )[: rules.max_risks]
    return strengths, risks


def measure_sentence(
    result: MeasureResult, kind: str, language: str, wording: Wording, formatter: Formatter
) -> Highlight:
    texts = wording.texts[language]
    value = formatter.measure_value(result.measure_value, result.unit)
    rounded_percent = rounded(abs(result.measure_value) * 100, 0)
    if rounded_percent == 0:
        change = texts["change_none"]
    else:
        change = texts["change_up" if result.measure_value > 0 else "change_down"].format(value=value)
    measure_texts = wording.measures[result.measure].texts[language]
    sentence = measure_texts[kind].format(value=value, window=formatter.integer(result.window_days), change=change)
    return Highlight(result.measure, measure_texts["label"], sentence)


def _check_bands(data: AccountReportData, settings: ReportSettings, wording: Wording) -> None:
    for band in data.bands:
        if band.band not in wording.bands[data.language]:
            raise ReportConfigError(
                f"{TEXTS_FILE}: no [{data.language}.bands.{band.band}] wording for band {band.band}"
            )
        if band.band not in settings.band_colours:
            raise ReportConfigError(f"report_settings.toml: no [band_colours.{band.band}] for band {band.band}")


@dataclass(frozen=True)
class RenderedReport:
    account_id: str
    language: str
    html: str


def render_report(data: AccountReportData, settings: ReportSettings, wording: Wording) -> RenderedReport:
    _check_bands(data, settings, wording)
    language = data.language
    texts = wording.texts[language]
    formatter = Formatter(settings.locales[language])
    band_wording = wording.bands[language]
    if data.trend is not None and f"trend_{data.trend}" not in texts:
        raise ReportDataError(f"{data.account_id} has the trend {data.trend!r}, which the report has no words for")

    strengths, risks = pick_highlights(data.measures, wording, settings.highlights)
    # The agreed next steps, or, in the top band and without any, the reassurance that none is needed.
    top_band = max(data.bands, key=lambda band: band.min_score).band
    if not data.next_steps and data.health_band != top_band:
        raise ReportDataError(
            f"{data.account_id} is {data.health_band} but marts.account_actions has no customer step for it "
            f"on {data.score_date}"
        )

    first_day = months_before(data.score_date, settings.chart_months)
    chart_start = min((day for day, _ in data.history), default=data.score_date)
    chart = score_chart(
        data.history,
        first=first_day,
        last=data.score_date,
        bands=data.bands,
        colours=settings.band_colours,
        current_band=data.health_band,
        formatter=formatter,
        title=texts["chart_heading"].format(months=settings.chart_months),
        description=texts["chart_description"].format(
            start=formatter.date(chart_start),
            end=formatter.date(data.score_date),
            score=formatter.score(data.health_score),
        ),
    )
    scale = band_scale(
        data.bands,
        settings.band_colours,
        {band: entry.name for band, entry in band_wording.items()},
        data.health_score,
        formatter,
        title=texts["band_heading"],
    )
    html = _template().render(
        language=language,
        texts=texts,
        company=data.account_name,
        score_date=formatter.date(data.score_date),
        score=formatter.score(data.health_score),
        band=data.health_band,
        band_name=band_wording[data.health_band].name,
        band_meaning=band_wording[data.health_band].meaning,
        band_colour=settings.band_colours[data.health_band].line,
        trend_arrow=TREND_ARROWS.get(data.trend, ""),
        trend=None if data.trend is None else texts[f"trend_{data.trend}"],
        change_30d=None if data.change_30d is None else formatter.signed_score(data.change_30d),
        months=settings.chart_months,
        chart=Markup(chart),
        band_scale=Markup(scale),
        strengths=[measure_sentence(m, "strength", language, wording, formatter) for m in strengths],
        risks=[measure_sentence(m, "risk", language, wording, formatter) for m in risks],
        next_steps=[
            {"text": step.customer_step, "due": None if step.due_date is None else formatter.date(step.due_date)}
            for step in data.next_steps[: settings.max_next_steps]
        ],
    )
    return RenderedReport(data.account_id, language, html)


def report_file_name(data: AccountReportData) -> str:
    return f"{data.account_id}_{data.score_date.isoformat()}.html"
