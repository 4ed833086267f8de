"""The score chart and the band scale as inline SVG, built with ElementTree so the markup is always well formed.

No JavaScript, no fonts or images from elsewhere: the text inherits the page's font, so the report renders
offline and prints as it shows.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from orchestration.customer_reports.config import BandColours
from orchestration.customer_reports.data import Band
from orchestration.customer_reports.formatting import Formatter

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
SCORE_MAX = 100.0


@dataclass(frozen=True)
class ChartGeometry:
    """Where the plot sits in the chart's viewBox; scores map linearly from 0 (bottom) to 100 (top)."""

    width: float = 680
    height: float = 172
    left: float = 30
    right: float = 640
    top: float = 6
    bottom: float = 142

    def y(self, score: float) -> float:
        return self.bottom - score / SCORE_MAX * (self.bottom - self.top)

    def score_at(self, y: float) -> float:
        """The score a y coordinate stands for (the inverse of `y`)."""
        return (self.bottom - y) / (self.bottom - self.top) * SCORE_MAX

    def x(self, day: dt.date, first: dt.date, last: dt.date) -> float:
        span = max((last - first).days, 1)
        return self.left + (day - first).days / span * (self.right - self.left)


GEOMETRY = ChartGeometry()


def _svg(width: float, height: float, title: str, description: str, css_class: str) -> ET.Element:
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "viewBox": f"0 0 {width:g} {height:g}",
            "class": css_class,
            "role": "img",
            "aria-label": title,
        },
    )
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "desc").text = description
    return root


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _first_days_of_months(first: dt.date, last: dt.date) -> list[dt.date]:
    day = dt.date(first.year, first.month, 1)
    months = []
    while day <= last:
        if day >= first:
            months.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def score_chart(
    history: Sequence[tuple[dt.date, float | None]],
    first: dt.date,
    last: dt.date,
    bands: Sequence[Band],
    colours: dict[str, BandColours],
    current_band: str,
    formatter: Formatter,
    title: str,
    description: str,
    geometry: ChartGeometry = GEOMETRY,
) -> str:
    """A line of the daily score from `first` to `last` over the bands; a day without a score breaks the line."""
    g = geometry
    root = _svg(g.width, g.height, title, description, "score-chart")
    for band in bands:
        top, bottom = g.y(band.max_score), g.y(band.min_score)
        ET.SubElement(
            root,
            "rect",
            {
                "class": f"band band-{band.band}",
                "x": _number(g.left),
                "y": _number(top),
                "width": _number(g.right - g.left),
                "height": _number(bottom - top),
                "fill": colours[band.band].fill,
            },
        )
    for score in sorted({b.min_score for b in bands} | {b.max_score for b in bands}):
        y = _number(g.y(score))
        ET.SubElement(
            root,
            "line",
            {"class": "grid", "x1": _number(g.left), "x2": _number(g.right), "y1": y, "y2": y, "stroke": "#ffffff"},
        )
        label = ET.SubElement(
            root,
            "text",
            {"class": "axis-label", "x": _number(g.left - 5), "y": y, "text-anchor": "end", "dy": "0.35em"},
        )
        label.text = formatter.integer(score)
    months = _first_days_of_months(first, last)
    for index, month in enumerate(months):
        x = _number(g.x(month, first, last))
        ET.SubElement(
            root,
            "line",
            {
                "class": "tick",
                "x1": x,
                "x2": x,
                "y1": _number(g.bottom),
                "y2": _number(g.bottom + 4),
                "stroke": "#8a94a6",
            },
        )
        label = ET.SubElement(
            root, "text", {"class": "axis-label", "x": x, "y": _number(g.bottom + 14), "text-anchor": "middle"}
        )
        label.text = formatter.month(month)
        if index == 0 or month.month == 1:
            year = ET.SubElement(
                root, "text", {"class": "axis-year", "x": x, "y": _number(g.bottom + 25), "text-anchor": "middle"}
            )
            year.text = formatter.year(month)

    # Consecutive scored days form one line; a gap (no score that day) starts the next.
    segments: list[list[tuple[float, float]]] = [[]]
    for day, score in history:
        if score is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((g.x(day, first, last), g.y(score)))
    line_colour = colours[current_band].line
    for segment in (s for s in segments if s):
        ET.SubElement(
            root,
            "polyline",
            {
                "class": "score-line",
                "points": " ".join(f"{_number(x)},{_number(y)}" for x, y in segment),
                "fill": "none",
                "stroke": "#1f2a44",
                "stroke-width": "1.6",
                "stroke-linejoin": "round",
            },
        )
    scored = [(day, score) for day, score in history if score is not None]
    if scored:
        day, score = scored[-1]
        x, y = g.x(day, first, last), g.y(score)
        ET.SubElement(
            root,
            "circle",
            {
                "class": "last-score",
                "cx": _number(x),
                "cy": _number(y),
                "r": "4",
                "fill": line_colour,
                "stroke": "#ffffff",
            },
        )
        label = ET.SubElement(
            root, "text", {"class": "last-score-label", "x": _number(x + 7), "y": _number(y), "dy": "0.35em"}
        )
        label.text = formatter.score(score)
    return ET.tostring(root, encoding="unicode")


def band_scale(
    bands: Sequence[Band],
    colours: dict[str, BandColours],
    band_names: dict[str, str],
    score: float,
    formatter: Formatter,
    title: str,
    width: float = 300,
    height: float = 46,
) -> str:
    """The 0-100 scale split into the bands, with a marker at the account's score."""
    left, right, bar_top, bar_height = 6.0, width - 6.0, 14.0, 12.0

    def x(value: float) -> float:
        return left + value / SCORE_MAX * (right - left)

    root = _svg(width, height, title, title, "band-scale")
    for band in bands:
        ET.SubElement(
            root,
            "rect",
            {
                "class": f"band band-{band.band}",
                "x": _number(x(band.min_score)),
                "y": _number(bar_top),
                "width": _number(x(band.max_score) - x(band.min_score)),
                "height": _number(bar_height),
                "fill": colours[band.band].line,
            },
        )
        name = ET.SubElement(
            root,
            "text",
            {
                "class": "band-name",
                "x": _number((x(band.min_score) + x(band.max_score)) / 2),
                "y": _number(bar_top + bar_height + 12),
                "text-anchor": "middle",
            },
        )
        name.text = (
            f"{band_names[band.band]} {formatter.integer(band.min_score)}\N{EN DASH}{formatter.integer(band.max_score)}"
        )
    marker_x = x(min(max(score, 0.0), SCORE_MAX))
    ET.SubElement(
        root,
        "path",
        {
            "class": "score-marker",
            "d": f"M{_number(marker_x - 5)},2 L{_number(marker_x + 5)},2 L{_number(marker_x)},{_number(bar_top - 1)} Z",
            "fill": "#1f2a44",
        },
    )
    ET.SubElement(
        root,
        "line",
        {
            "x1": _number(marker_x),
            "x2": _number(marker_x),
            "y1": _number(bar_top),
            "y2": _number(bar_top + bar_height),
            "stroke": "#1f2a44",
            "stroke-width": "2",
        },
    )
    return ET.tostring(root, encoding="unicode")
