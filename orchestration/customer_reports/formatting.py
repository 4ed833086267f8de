"""Dates and numbers as the report's language writes them (German: 25.11.2026 and 38,2), through babel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

# Measure units shown as a percentage of their absolute value, as the dbt macro format_measure_value does.
PERCENT_UNITS = {"ratio", "change"}
# Units shown in whole numbers (hours too: a customer reads "106 hours", not "105.8").
WHOLE_UNITS = {"days", "features", "hours"}
MINUS = "\N{MINUS SIGN}"


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
        """A score with one decimal: 38.2, 38,2."""
        return format_decimal(round(float(value), 1), "0.0", locale=self.locale)

    def signed_score(self, value: float) -> str:
        """A change of score with its sign: +4.3, −6.1 (0.0 when it rounds to nothing)."""
        rounded = round(float(value), 1)
        text = format_decimal(abs(rounded), "0.0", locale=self.locale)
        return text if rounded == 0 else ("+" if rounded > 0 else MINUS) + text

    def integer(self, value: float) -> str:
        return format_decimal(round(float(value)), "#,##0", locale=self.locale)

    def measure_value(self, value: float, unit: str) -> str:
        """A measure's value as people read it: ratios and changes as percentages, days and counts without
        decimals, everything else with at most one decimal."""
        if unit in PERCENT_UNITS:
            return format_percent(abs(float(value)), locale=self.locale)
        if unit in WHOLE_UNITS:
            return self.integer(value)
        return format_decimal(round(float(value), 1), "#,##0.#", locale=self.locale).replace("-", MINUS)
