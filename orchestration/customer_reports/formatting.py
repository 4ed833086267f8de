"""Dates and numbers as the report's language writes them (German: 25.11.2026 and 38,2), through babel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from orchestration.score_display import cut_to_one_decimal

# Measure units shown as a percentage of their absolute value, as the dbt macro format_measure_value does.
PERCENT_UNITS = {"ratio", "change"}
# Units shown in whole numbers (hours too: a customer reads "106 hours", not "105.8").
WHOLE_UNITS = {"days", "features", "hours"}
MINUS = "\N{MINUS SIGN}"


def rounded(value: float, places: int) -> Decimal:
    """`value` rounded half away from zero, as SQL's round() does and readers expect (20.45 -> 20.5), from its
    shortest decimal text, so the float 20.45 (20.449999...) is not rounded down."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Formatter:
    locale: str

    def date(self, day: dt.date) -> str:
        return format_date(day, "medium", locale=self.locale)

    def month(self, day: dt.date) -> str:
        """The month's abbreviated name, standing alone (an axis label)."""
        return format_date(day, "LLL", locale=self.locale)

    def year(self, day: dt.date) -> str:
        return format_date(day, "y", locale=self.locale)

    def score(self, value: float) -> str:
        """A score with one decimal, cut off rather than rounded as everywhere the project prints a score: 39.96
        is red and must not read 40.0, the start of yellow. 38.2, 38,2."""
        return format_decimal(cut_to_one_decimal(value), "0.0", locale=self.locale)

    def signed_score(self, value: float) -> str:
        """A change of score with its sign: +4.3, −6.1 (0.0 when it rounds to nothing)."""
        change = rounded(value, 1)
        text = format_decimal(abs(change), "0.0", locale=self.locale)
        return text if change == 0 else ("+" if change > 0 else MINUS) + text

    def integer(self, value: float) -> str:
        return format_decimal(rounded(value, 0), "#,##0", locale=self.locale)

    def measure_value(self, value: float, unit: str) -> str:
        """A measure's value as people read it: ratios and changes as percentages, days and counts without
        decimals, everything else with at most one decimal."""
        if unit in PERCENT_UNITS:
            return format_percent(rounded(abs(float(value)) * 100, 0) / 100, locale=self.locale)
        if unit in WHOLE_UNITS:
            return self.integer(value)
        return format_decimal(rounded(value, 1), "#,##0.#", locale=self.locale).replace("-", MINUS)
