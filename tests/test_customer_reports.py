"""Customer health reports: the right language, the published figures, nothing internal, well-formed HTML and SVG."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from orchestration.customer_reports import browser
from orchestration.customer_reports.chart import GEOMETRY, SVG_NAMESPACE, score_chart
from orchestration.customer_reports.config import (
    MEASURES_FILE,
    SETTINGS_FILE,
    TEXTS_FILE,
    ReportConfigError,
    load_measure_wording,
    load_settings,
    load_texts,
    load_wording,
)
from orchestration.customer_reports.data import (
    READ_TABLES,
    AccountReportData,
    Band,
    MeasureResult,
    NextStep,
    ReportDataError,
    months_before,
)
from orchestration.customer_reports.formatting import Formatter
from orchestration.customer_reports.generate import generate_reports
from orchestration.customer_reports.render import render_report
from orchestration.customer_reports.screenshots import pick_examples
from orchestration.defs.serving.publish import PUBLISHED_TABLES
from orchestration.settings import REPO_ROOT
from tests.conftest import cli_environment

CHROMIUM = Path("/usr/bin/chromium")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --- settings and wording -------------------------------------------------------------------------------------


def test_report_reads_only_published_tables_and_no_churn_probabilities():
    assert set(READ_TABLES) <= set(PUBLISHED_TABLES)
    assert "account_churn_risk" not in READ_TABLES


def test_shipped_wording_covers_every_configured_measure_and_band():
    settings = load_settings()
    wording = load_wording(settings)
    seeds = REPO_ROOT / "seeds"
    measures = {line.split(",")[0] for line in (seeds / "measures.csv").read_text().splitlines()[1:]}
    bands = {line.split(",")[0] for line in (seeds / "health_bands.csv").read_text().splitlines()[1:]}
    assert measures == set(wording.measures)
    for language in settings.languages:
        assert bands <= set(wording.bands[language])
    assert bands <= set(settings.band_colours)
    # The CSM's own rating is internal, and comment sentiment comes from respondents' free text.
    assert not wording.measures["csm_sentiment"].is_shown_to_customer
    assert not wording.measures["comment_sentiment"].is_shown_to_customer


def test_language_follows_the_country():
    settings = load_settings()
    assert [settings.language_for(c) for c in ["DE", "AT", "CH", "LI", "at", "GB", "US", None]] == [
        "de",
        "de",
        "de",
        "de",
        "de",
        "en",
        "en",
        "en",
    ]


def _rewrite(source: Path, target: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_a_measure_sentence_with_an_unknown_placeholder_is_refused_with_file_line_and_reason(tmp_path):
    bad = _rewrite(MEASURES_FILE, tmp_path / "measures.csv", "{value} of your licensed", "{share} of your licensed")
    with pytest.raises(
        ReportConfigError,
        match=r"measures\.csv, line 2: strength_en of active_user_ratio: unknown placeholder \{share\}",
    ):
        load_measure_wording(["en", "de"], bad)


def test_a_hidden_measure_needs_its_reason_and_every_row_its_fields(tmp_path):
    lines = MEASURES_FILE.read_text(encoding="utf-8").splitlines()
    hidden = next(i for i, line in enumerate(lines) if line.startswith("csm_sentiment,"))
    no_reason = lines.copy()
    no_reason[hidden] = "csm_sentiment,false,,,,,,,"
    (tmp_path / "no_reason.csv").write_text("\n".join(no_reason) + "\n", encoding="utf-8")
    with pytest.raises(
        ReportConfigError, match=rf"line {hidden + 1}: csm_sentiment is hidden from customers without a hidden_reason"
    ):
        load_measure_wording(["en", "de"], tmp_path / "no_reason.csv")
    short = lines.copy()
    short[3] = short[3].rsplit(",", 1)[0]
    (tmp_path / "short.csv").write_text("\n".join(short) + "\n", encoding="utf-8")
    with pytest.raises(ReportConfigError, match="line 4: the row has a different number of fields"):
        load_measure_wording(["en", "de"], tmp_path / "short.csv")


def test_missing_texts_and_languages_without_locale_are_refused(tmp_path):
    texts = _rewrite(TEXTS_FILE, tmp_path / "texts.toml", 'no_risks = "No area', 'no_riskz = "No area')
    with pytest.raises(ReportConfigError, match=r"texts\.toml: \[en\] no_risks is missing or empty"):
        load_texts(["en", "de"], texts)
    settings = _rewrite(SETTINGS_FILE, tmp_path / "settings.toml", 'LI = "de"', 'LI = "fr"')
    with pytest.raises(ReportConfigError, match=r"by_country\.LI = 'fr' has no locale"):
        load_settings(settings)
    crossed = _rewrite(SETTINGS_FILE, tmp_path / "crossed.toml", "risk_below_points = 50", "risk_below_points = 80")
    with pytest.raises(ReportConfigError, match="could be a strength and a risk at once"):
        load_settings(crossed)


# --- formatting and chart -------------------------------------------------------------------------------------


def test_dates_and_numbers_per_language():
    german, english = Formatter("de_DE"), Formatter("en_GB")
    day = dt.date(2026, 11, 25)
    assert (german.date(day), german.score(38.24), german.signed_score(-6.06)) == ("25.11.2026", "38,2", "\u22126,1")
    assert (english.date(day), english.score(38.24), english.signed_score(4.26)) == ("25 Nov 2026", "38.2", "+4.3")
    assert german.measure_value(0.14, "ratio") == "14\xa0%"
    assert english.measure_value(-0.38, "change") == "38%"
    assert german.measure_value(2.75, "rating") == "2,8"
    assert english.measure_value(105.8, "hours") == "106"
    # Changes round half away from zero, as SQL rounds, also where the float lies just below the half (7.45 is
    # 7.4499...); scores are cut off, so that a red 39.96 never reads as the yellow 40.0.
    assert english.signed_score(-7.45) == "\u22127.5"
    assert (german.score(39.96), english.score(55.25), english.score(70.0)) == ("39,9", "55.2", "70.0")


def test_months_before_keeps_the_day_or_the_months_last():
    assert months_before(dt.date(2026, 10, 31), 12) == dt.date(2025, 10, 31)
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 1) == dt.date(2025, 12, 15)


def test_a_day_without_score_breaks_the_line_and_points_map_back_to_scores():
    first, last = dt.date(2026, 1, 1), dt.date(2026, 1, 5)
    history = [(first, 10.0), (dt.date(2026, 1, 2), None), (dt.date(2026, 1, 3), 50.0), (last, 87.5)]
    bands = [Band("red", 0, 40), Band("yellow", 40, 70), Band("green", 70, 100)]
    settings = load_settings()
    svg = score_chart(history, first, last, bands, settings.band_colours, "green", Formatter("en_GB"), "t", "d")
    lines = ET.fromstring(svg).findall(f"{{{SVG_NAMESPACE}}}polyline")
    assert [len(line.get("points").split()) for line in lines] == [1, 2]
    last_y = float(lines[-1].get("points").split()[-1].split(",")[1])
    assert GEOMETRY.score_at(last_y) == pytest.approx(87.5, abs=0.01)


def _synthetic_account(band: str, next_steps: list) -> AccountReportData:
    day = dt.date(2026, 10, 31)
    return AccountReportData(
        account_id="ACC-1",
        account_name="Beispiel GmbH",
        country_code="AT",
        language="de",
        health_score=55.25,
        health_band=band,
        trend="declining",
        change_30d=-7.5,
        score_date=day,
        bands=[Band("red", 0, 40), Band("yellow", 40, 70), Band("green", 70, 100)],
        history=[(day - dt.timedelta(days=n), 60.0 - n / 10) for n in range(30, -1, -1)],
        measures=[
            MeasureResult("active_user_ratio", "ratio", 30, 0.14, 16.36, 1.9, 10.0),
            MeasureResult("ticket_csat", "rating", 180, 4.6, 100.0, 6.0, 0.0),
            MeasureResult("csm_sentiment", "rating", 3650, 1.0, 0.0, 0.0, 20.0),
        ],
        next_steps=next_steps,
    )


def test_a_synthetic_report_words_strengths_and_risks_and_hides_the_csm_rating():
    settings = load_settings()
    wording = load_wording(settings)
    html = render_report(_synthetic_account("yellow", [NextStep(1, "Wir rufen Sie an.", None)]), settings, wording).html
    text = " ".join(" ".join(parse_html(html).text).split())
    assert "14 % Ihrer lizenzierten Plätze wurden in den letzten 30 Tagen genutzt." in text
    assert "Ihr Team hat unseren Support mit 4,6 von 5 bewertet." in text
    # The CSM's rating costs the most points but is never shown to the customer.
    assert "CSM" not in text and "1 von 5" not in text
    # The score 55.25 is cut off, its change -7.45 rounded.
    assert "55,2" in text and "−7,5 Punkte in 30 Tagen" in text and "Wir rufen Sie an." in text


def test_an_account_without_a_comparable_trend_gets_a_report_without_one():
    """No score 30 days earlier, or one of another configuration version: no trend and no 30-day change."""
    settings = load_settings()
    wording = load_wording(settings)
    account = dataclasses.replace(
        _synthetic_account("yellow", [NextStep(1, "Wir rufen Sie an.", None)]), trend=None, change_30d=None
    )
    html = render_report(account, settings, wording).html
    assert 'class="trend"' not in html and wording.texts["de"]["trend_declining"] not in html
    assert 'class="trend"' in render_report(_synthetic_account("yellow", account.next_steps), settings, wording).html


def test_a_band_without_wording_and_an_unhealthy_account_without_steps_are_refused():
    settings = load_settings()
    wording = load_wording(settings)
    with pytest.raises(ReportDataError, match="is yellow but marts.account_actions has no customer step"):
        render_report(_synthetic_account("yellow", []), settings, wording)
    # The top band needs no step: it gets the check-in sentence.
    assert (
        wording.texts["de"]["no_action_needed"]
        in render_report(_synthetic_account("green", []), settings, wording).html
    )
    del wording.bands["de"]["yellow"]
    with pytest.raises(ReportConfigError, match=r"no \[de\.bands\.yellow\] wording for band yellow"):
        render_report(_synthetic_account("yellow", [NextStep(1, "x", None)]), settings, wording)


# --- reports of the sample ------------------------------------------------------------------------------------


class StrictHTML(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element; collects text and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:] or 'nothing'}"
        self.open.pop()

    def handle_data(self, data):
        if self.open[-1:] != ["style"]:  # the page's text, not its stylesheet
            self.text.append(data)


def parse_html(html: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(html)
    parser.close()
    assert parser.open == [], f"unclosed elements: {parser.open}"
    return parser


@pytest.fixture(scope="module")
def sample_reports(sample_run, tmp_path_factory):
    """The reports of the example red and green accounts of the sample, rendered from its serving file."""
    assert sample_run.run.returncode == 0, sample_run.run.stderr[-3000:]
    settings = load_settings()
    examples = pick_examples(sample_run.serving, settings)
    out = tmp_path_factory.mktemp("reports")
    result = generate_reports(sample_run.serving, out, list(examples.values()))
    assert result.refused == {}
    pages = {band: next(p for p in result.written if p.name.startswith(account)) for band, account in examples.items()}
    return examples, pages


def _published(serving: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("band", ["red", "green"])
def test_report_shows_the_published_score_band_and_history_in_the_customers_language(sample_run, sample_reports, band):
    examples, pages = sample_reports
    account_id = examples[band]
    html = pages[band].read_text(encoding="utf-8")
    parsed = parse_html(html)
    country, score, mart_band, score_date = _published(
        sample_run.serving,
        "select country_code, cast(health_score as double), health_band, score_date "
        "from marts.account_health_scores where account_id = ?",
        [account_id],
    )[0]
    assert mart_band == band
    language = "de" if country in ("DE", "AT", "CH", "LI") else "en"
    # The sample has German red accounts and English green ones, so both languages are exercised.
    assert language == {"red": "de", "green": "en"}[band]
    assert ("html", {"lang": language}) in parsed.elements
    formatter = Formatter({"de": "de_DE", "en": "en_GB"}[language])
    assert re.search(r'<span class="score-value">([^<]+)</span>', html).group(1) == formatter.score(score)
    assert f'data-band="{band}"' in html
    expected_date = score_date.strftime("%d.%m.%Y") if language == "de" else formatter.date(score_date)
    assert expected_date in html

    # Well-formed SVG: each inline <svg> parses as XML in the SVG namespace.
    svgs = [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]
    assert len(svgs) == 2 and all(svg.tag == f"{{{SVG_NAMESPACE}}}svg" and svg.get("viewBox") for svg in svgs)
    chart = next(svg for svg in svgs if svg.get("class") == "score-chart")
    points = [p for line in chart.findall(f"{{{SVG_NAMESPACE}}}polyline") for p in line.get("points").split()]
    history = _published(
        sample_run.serving,
        "select cast(health_score as double) from marts.account_health_history where account_id = ? "
        "and score_date > ? - interval 12 month and score_date <= ? and health_score is not null order by score_date",
        [account_id, score_date, score_date],
    )
    assert len(points) == len(history)
    assert GEOMETRY.score_at(float(points[-1].split(",")[1])) == pytest.approx(history[-1][0], abs=0.01)
    assert history[-1][0] == pytest.approx(score)


def test_red_report_lists_the_agreed_customer_steps_and_green_the_check_in(sample_run, sample_reports):
    examples, pages = sample_reports
    red_html = parse_html(pages["red"].read_text(encoding="utf-8"))
    steps = _published(
        sample_run.serving,
        "select customer_step_de from marts.account_actions where account_id = ? order by priority",
        [examples["red"]],
    )
    assert steps
    text = " ".join(" ".join(red_html.text).split())
    # The most urgent steps, each said once, up to the number the settings show; the later ones are left out.
    distinct = list(dict.fromkeys(step for (step,) in steps))
    shown = load_settings().max_next_steps
    for step in distinct[:shown]:
        assert " ".join(step.split()) in text
    for step in distinct[shown:]:
        assert " ".join(step.split()) not in text
    green_text = " ".join(parse_html(pages["green"].read_text(encoding="utf-8")).text)
    assert load_wording(load_settings()).texts["en"]["no_action_needed"] in green_text


def test_report_holds_nothing_internal_and_nothing_of_other_accounts(sample_run, sample_reports):
    examples, pages = sample_reports
    forbidden: dict[str, set[str]] = {}
    with duckdb.connect(str(sample_run.serving), read_only=True) as con:
        forbidden["CSM name"] = {
            row[0] for row in con.execute("select distinct csm_owner from marts.account_health_scores").fetchall()
        }
        names = dict(con.execute("select account_id, account_name from marts.account_health_scores").fetchall())
        forbidden["internal action"] = {
            text for row in con.execute("select action, reason from marts.account_actions").fetchall() for text in row
        }
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        forbidden["survey comment"] = {
            row[0]
            for row in con.execute("select comment from raw.survey_responses where length(comment) >= 12").fetchall()
        }
        forbidden["e-mail address"] = {
            row[0]
            for row in con.execute(
                "select respondent_email from raw.survey_responses union select contact_email from raw.accounts"
            ).fetchall()
        }
    assert all(forbidden.values())
    for band, account_id in examples.items():
        html = pages[band].read_text(encoding="utf-8")
        text = " ".join(parse_html(html).text)
        assert "@" not in text, "an @ in the text: an e-mail address?"
        assert not re.search(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", html, flags=re.I), "an e-mail address in the markup"
        own = names[account_id]
        others = {name for other, name in names.items() if other != account_id and name not in own}
        for kind, values in {**forbidden, "other account": others}.items():
            leaked = sorted(v for v in values if v and v in text)
            assert not leaked, f"{kind} in the {band} report: {leaked[:3]}"


def test_accounts_without_a_report_are_named_with_the_reason(sample_run, tmp_path):
    churned = _published(
        sample_run.serving, "select account_id from marts.account_health_scores where is_churned limit 1"
    )
    result = generate_reports(sample_run.serving, tmp_path, [churned[0][0], "ACC-99999"])
    assert result.written == []
    assert "no longer a customer" in result.refused[churned[0][0]]
    assert "no account ACC-99999" in result.refused["ACC-99999"]


def test_cli_writes_every_current_account_and_refuses_a_serving_file_without_actions(sample_run, tmp_path):
    env = cli_environment(tmp_path / "dagster", sample_run.warehouse, Path("unused"), sample_run.serving)
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.customer_reports", "--all", "--out", str(tmp_path / "all")],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    current = _published(
        sample_run.serving,
        "select count(*) from marts.account_health_scores where not is_churned and health_score is not null",
    )[0][0]
    assert len(list((tmp_path / "all").glob("*.html"))) == current

    without_actions = tmp_path / "serving.duckdb"
    shutil.copy(sample_run.serving, without_actions)
    with duckdb.connect(str(without_actions)) as con:
        con.execute("drop table marts.account_actions")
    with pytest.raises(ReportDataError, match="has no marts.account_actions"):
        generate_reports(without_actions, tmp_path / "none", ["ACC-00001"])


def test_pdf_without_chromium_fails_with_a_clear_message(sample_run, tmp_path, monkeypatch):
    monkeypatch.delenv("HEALTHSCORE_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(browser.ChromiumMissing, match="apt-get install chromium"):
        generate_reports(sample_run.serving, tmp_path / "out", ["ACC-00001"], pdf=True)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium: screenshots and PDFs untested")
def test_chromium_prints_one_a4_page_and_a_screenshot(sample_reports, tmp_path):
    from PIL import Image

    _, pages = sample_reports
    pdf = browser.print_pdf(pages["red"], tmp_path / "red.pdf")
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF")
    # One page, A4: 595 x 842 points.
    assert re.findall(rb"/Count (\d+)", content) == [b"1"]
    assert re.search(rb"/MediaBox\s*\[0 0 59[45](\.\d+)? 84[12](\.\d+)?\]", content)
    png = browser.screenshot(pages["green"], tmp_path / "green.png", 1000)
    with Image.open(png) as image:
        assert image.size == (1000, 1414)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50  # a rendered page, not a blank one
