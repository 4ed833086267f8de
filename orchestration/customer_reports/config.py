"""The report's settings and wording, read and checked once: a mistake names the file, the row and the reason.

report_settings.toml  language per country, locales, how many strengths, risks and next steps, chart months,
                      band colours
wording/texts.toml    the report's sentences and band names per language
wording/measures.csv  per measure: whether a customer sees it (and why not), its label and its strength and
                      risk sentence per language
"""

from __future__ import annotations

import csv
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError

PACKAGE_DIR = Path(__file__).resolve().parent
SETTINGS_FILE = PACKAGE_DIR / "report_settings.toml"
TEXTS_FILE = PACKAGE_DIR / "wording" / "texts.toml"
MEASURES_FILE = PACKAGE_DIR / "wording" / "measures.csv"

# Placeholders a measure sentence may use: the measure's value, its window in days, and its change in words.
MEASURE_PLACEHOLDERS = {"value", "window", "change"}
# The report's sentences, each with the placeholders it may use.
TEXT_PLACEHOLDERS = {
    "document_title": {"company"},
    "title": set(),
    "as_of": {"date"},
    "score_heading": set(),
    "out_of": set(),
    "band_label": {"band"},
    "change_30d": {"change"},
    "trend_improving": set(),
    "trend_declining": set(),
    "trend_stable": set(),
    "band_heading": set(),
    "band_range": {"low", "high"},
    "band_intro": set(),
    "chart_heading": {"months"},
    "chart_description": {"start", "end", "score"},
    "strengths_heading": set(),
    "risks_heading": set(),
    "no_strengths": set(),
    "no_risks": set(),
    "next_steps_heading": set(),
    "due": {"date"},
    "no_action_needed": set(),
    "change_up": {"value"},
    "change_down": {"value"},
    "change_none": set(),
    "footer": {"company", "date"},
}
MEASURE_COLUMNS = ["measure", "is_shown_to_customer", "hidden_reason"]
MEASURE_TEXT_COLUMNS = ["label", "strength", "risk"]


class ReportConfigError(ValueError):
    """A settings or wording file the report cannot use; the message names the file, where, and why."""


def placeholders(template: str) -> set[str]:
    """The {names} a str.format template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_template(template: str, allowed: set[str], where: str) -> None:
    try:
        used = placeholders(template)
    except ValueError as error:  # an unbalanced brace
        raise ReportConfigError(f"{where}: {error} in {template!r}") from error
    if unknown := used - allowed:
        allowed_text = ", ".join("{" + name + "}" for name in sorted(allowed)) or "none"
        raise ReportConfigError(
            f"{where}: unknown placeholder {', '.join('{' + n + '}' for n in sorted(unknown))} "
            f"(allowed: {allowed_text})"
        )


@dataclass(frozen=True)
class BandColours:
    line: str  # the band on the scale, the dot at the latest score
    fill: str  # the band behind the chart's line


@dataclass(frozen=True)
class HighlightRules:
    max_strengths: int
    strength_from_points: float
    max_risks: int
    risk_below_points: float


@dataclass(frozen=True)
class ReportSettings:
    default_language: str
    language_by_country: dict[str, str]
    locales: dict[str, str]
    highlights: HighlightRules
    max_next_steps: int
    chart_months: int
    band_colours: dict[str, BandColours]

    def language_for(self, country_code: str | None) -> str:
        return self.language_by_country.get((country_code or "").upper(), self.default_language)

    @property
    def languages(self) -> list[str]:
        return sorted(self.locales)


@dataclass(frozen=True)
class MeasureWording:
    measure: str
    is_shown_to_customer: bool
    hidden_reason: str
    # language -> {"label": ..., "strength": ..., "risk": ...}
    texts: dict[str, dict[str, str]]


@dataclass(frozen=True)
class BandWording:
    name: str
    meaning: str


@dataclass(frozen=True)
class Wording:
    texts: dict[str, dict[str, str]]  # language -> key -> sentence
    bands: dict[str, dict[str, BandWording]]  # language -> band -> wording
    measures: dict[str, MeasureWording]


def _number(section: dict, key: str, where: str, minimum: float, maximum: float | None = None) -> float:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportConfigError(f"{where}: {key} must be a number, not {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ReportConfigError(f"{where}: {key} must be {bounds}, not {value}")
    return value


def load_settings(path: Path = SETTINGS_FILE) -> ReportSettings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ReportConfigError(f"{path}: not valid TOML: {error}") from error
    language = data.get("language", {})
    locales = language.get("locales", {})
    if not locales:
        raise ReportConfigError(f"{path}: [language.locales] names no language")
    for code, locale in locales.items():
        try:
            Locale.parse(locale)
        except (UnknownLocaleError, ValueError) as error:
            raise ReportConfigError(
                f"{path}: [language.locales] {code} = {locale!r} is not a locale babel knows"
            ) from error
    default = language.get("default")
    by_country = {str(country).upper(): code for country, code in language.get("by_country", {}).items()}
    for where, code in [("default", default), *((f"by_country.{c}", v) for c, v in by_country.items())]:
        if code not in locales:
            raise ReportConfigError(f"{path}: [language] {where} = {code!r} has no locale in [language.locales]")
    for country in by_country:
        if len(country) != 2 or not country.isalpha():
            raise ReportConfigError(f"{path}: [language] by_country {country!r} is not an ISO 3166-1 alpha-2 code")
    section, where = data.get("highlights", {}), f"{path}: [highlights]"
    highlights = HighlightRules(
        max_strengths=int(_number(section, "max_strengths", where, 0)),
        strength_from_points=_number(section, "strength_from_points", where, 0, 100),
        max_risks=int(_number(section, "max_risks", where, 0)),
        risk_below_points=_number(section, "risk_below_points", where, 0, 100),
    )
    if highlights.risk_below_points > highlights.strength_from_points:
        raise ReportConfigError(
            f"{where}: risk_below_points ({highlights.risk_below_points}) lies above strength_from_points "
            f"({highlights.strength_from_points}): a measure could be a strength and a risk at once"
        )
    max_next_steps = int(_number(data.get("next_steps", {}), "max_shown", f"{path}: [next_steps]", 1))
    months = int(_number(data.get("chart", {}), "months", f"{path}: [chart]", 1, 120))
    colours = {}
    for band, entry in data.get("band_colours", {}).items():
        for key in ("line", "fill"):
            if not re.fullmatch(r"#[0-9a-fA-F]{6}", str(entry.get(key, ""))):
                raise ReportConfigError(f"{path}: [band_colours.{band}] {key} must be a colour like #1f2a44")
        colours[band] = BandColours(entry["line"], entry["fill"])
    return ReportSettings(default, by_country, dict(locales), highlights, max_next_steps, months, colours)


def load_texts(languages: list[str], path: Path = TEXTS_FILE) -> tuple[dict, dict]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ReportConfigError(f"{path}: not valid TOML: {error}") from error
    texts: dict[str, dict[str, str]] = {}
    bands: dict[str, dict[str, BandWording]] = {}
    for language in languages:
        table = data.get(language)
        if table is None:
            raise ReportConfigError(f"{path}: no [{language}] table, but report_settings.toml uses {language!r}")
        texts[language] = {}
        for key, allowed in TEXT_PLACEHOLDERS.items():
            value = table.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ReportConfigError(f"{path}: [{language}] {key} is missing or empty")
            _check_template(value, allowed, f"{path}: [{language}] {key}")
            texts[language][key] = value
        bands[language] = {}
        for band, entry in table.get("bands", {}).items():
            name, meaning = entry.get("name", ""), entry.get("meaning", "")
            if not name.strip() or not meaning.strip():
                raise ReportConfigError(f"{path}: [{language}.bands.{band}] needs a name and a meaning")
            bands[language][band] = BandWording(name, meaning)
    return texts, bands


def load_measure_wording(languages: list[str], path: Path = MEASURES_FILE) -> dict[str, MeasureWording]:
    expected = MEASURE_COLUMNS + [f"{column}_{language}" for language in languages for column in MEASURE_TEXT_COLUMNS]
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        if missing := [column for column in expected if column not in (reader.fieldnames or [])]:
            raise ReportConfigError(f"{path}: header lacks the column(s) {', '.join(missing)}")
        wording: dict[str, MeasureWording] = {}
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            if None in row or any(value is None for value in row.values()):
                raise ReportConfigError(f"{where}: the row has a different number of fields than the header")
            measure = row["measure"].strip()
            if not measure:
                raise ReportConfigError(f"{where}: measure is empty")
            if measure in wording:
                raise ReportConfigError(f"{where}: measure {measure} appears a second time")
            shown_text = row["is_shown_to_customer"].strip().lower()
            if shown_text not in ("true", "false"):
                raise ReportConfigError(f"{where}: is_shown_to_customer must be true or false, not {shown_text!r}")
            shown = shown_text == "true"
            if not shown and not row["hidden_reason"].strip():
                raise ReportConfigError(f"{where}: {measure} is hidden from customers without a hidden_reason")
            texts: dict[str, dict[str, str]] = {}
            for language in languages:
                texts[language] = {column: row[f"{column}_{language}"].strip() for column in MEASURE_TEXT_COLUMNS}
                if not shown:
                    continue
                for column, text in texts[language].items():
                    if not text:
                        raise ReportConfigError(f"{where}: {column}_{language} of {measure} is empty")
                    allowed = set() if column == "label" else MEASURE_PLACEHOLDERS
                    _check_template(text, allowed, f"{where}: {column}_{language} of {measure}")
            wording[measure] = MeasureWording(measure, shown, row["hidden_reason"].strip(), texts)
    return wording


def load_wording(
    settings: ReportSettings, texts_path: Path = TEXTS_FILE, measures_path: Path = MEASURES_FILE
) -> Wording:
    texts, bands = load_texts(settings.languages, texts_path)
    return Wording(texts, bands, load_measure_wording(settings.languages, measures_path))
