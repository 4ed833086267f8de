"""Language and sentiment of free-text comments, derived by the loader as raw columns.

For each free-text column the contract marks `sentiment: true` (survey_responses.comment), the raw layer keeps
`_<column>_language` (`de` or `en`) and `_<column>_sentiment` (polarity from -1, negative, to 1, positive, four
decimals) next to the text; staging publishes those two and the text never leaves staging. An empty or missing
text gets neither (null).

Language, a deterministic vote:
1. German: the German function words in the text (der, und, ist, nicht, wir, ...), plus one if it contains
   ä, ö, ü or ß; English: the English function words (the, and, is, not, we, ...). Words both languages use
   (in, was, will, also, so, an, ...) count for neither. More votes wins.
2. A tie (a text of a few content words, "Works reliably, good onboarding."): the words only the German
   polarity lexicon knows against the words only the English one knows.
3. Still a tie (no words at all, emoticons, "OK"): English, whose analyzer also reads emoticons, emoji,
   capitals and exclamation marks, which belong to no language.

Polarity: English with VADER (`SentimentIntensityAnalyzer().polarity_scores(text)['compound']`), German with
textblob-de's pattern lexicon (`PatternAnalyzer(tokenizer=PatternTokenizer())`: the pattern tokenizer, never
NLTK's punkt, which would try to download data). Both are lexicons installed with the packages: nothing is
downloaded and no text leaves the machine. The analyzers are built once per process, when the first text
needs them; a load scores each distinct text once (a survey export repeats few texts, and exports overlap).
Values are rounded to four decimals (VADER's own precision) and stored as decimals, so that sums over them in
dbt are exact and a rebuild reproduces every average.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.defs.ingestion.contract import SourceContract

LANGUAGES = ("de", "en")
SENTIMENT_TYPE = "DECIMAL(5,4)"
_PLACES = Decimal("0.0001")

# Function words that mark a language; words both languages write the same way are left out of both.
GERMAN_WORDS = frozenset(
    re.findall(
        r"\S+",
        """
        aber alle alles auch auf aus bei beim bisher bitte dass daß dem den der des dich die dir doch durch
        ein eine einem einen einer eines es etwas für ganz gibt haben habe hatte hätte ich ihr ihre im immer
        ist jetzt kann kein keine keinen können könnte leider mehr mich mir mit muss müssen nach nicht nichts
        noch nur oder schon sehr seit sich sie sind über und uns unser unsere viel viele vom von wäre weil
        wenig wenn werden wie wir wird wurde wurden zu zum zur zwar
        """,
    )
)
ENGLISH_WORDS = frozenset(
    re.findall(
        r"\S+",
        """
        a about after all already always and are at be because been but by can can't could did do does
        doesn't don't for from get had has have how i i'm if is isn't it it's its just more much my need
        needs no not now of on only or our really should since than that the their them then there they
        this to too us very we we're were what when which who with would you your
        """,
    )
)
GERMAN_LETTERS = re.compile("[äöüß]", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True)
class CommentSentiment:
    language: str
    """`de` or `en`."""
    sentiment: Decimal
    """Polarity from -1 (negative) to 1 (positive), four decimals."""


@cache
def _english_analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _german_analyzer() -> Any:
    from textblob_de.sentiments import PatternAnalyzer
    from textblob_de.tokenizers import PatternTokenizer

    return PatternAnalyzer(tokenizer=PatternTokenizer())


@cache
def _lexicons() -> tuple[frozenset[str], frozenset[str]]:
    """The words only the German polarity lexicon knows and those only VADER's knows, lower-cased."""
    from textblob_de.sentiments import sentiment

    german = frozenset(word.lower() for word in sentiment)  # a lazy dict: iterating loads the lexicon
    english = frozenset(_english_analyzer().lexicon)
    return german - english, english - german


def detect_language(text: str) -> str:
    """`de` or `en`, by the vote described in the module docstring."""
    words = [word.lower() for word in WORD.findall(text)]
    german = sum(word in GERMAN_WORDS for word in words) + (1 if GERMAN_LETTERS.search(text) else 0)
    english = sum(word in ENGLISH_WORDS for word in words)
    if german == english and words:
        german_only, english_only = _lexicons()
        german = sum(word in german_only for word in words)
        english = sum(word in english_only for word in words)
    return "de" if german > english else "en"


def polarity(text: str, language: str) -> Decimal:
    """The text's polarity in `language`, clamped to -1..1 and rounded to four decimals."""
    if language == "de":
        value = _german_analyzer().analyze(text).polarity
    else:
        value = _english_analyzer().polarity_scores(text)["compound"]
    return Decimal(min(max(float(value), -1.0), 1.0)).quantize(_PLACES, ROUND_HALF_EVEN)


def score_comment(text: str | None) -> CommentSentiment | None:
    """Language and polarity of one comment; None for a missing or blank one."""
    if text is None or not text.strip():
        return None
    language = detect_language(text)
    return CommentSentiment(language, polarity(text, language))


def score_comments(texts: Iterable[str | None]) -> dict[str, CommentSentiment | None]:
    """Each distinct text scored once."""
    return {text: score_comment(text) for text in dict.fromkeys(texts) if text is not None}


# --- in the loader ---------------------------------------------------------------------------------------


def language_column(column: str) -> str:
    """The raw column holding the language of free-text column `column`."""
    return f"_{column}_language"


def sentiment_column(column: str) -> str:
    """The raw column holding the polarity of free-text column `column`."""
    return f"_{column}_sentiment"


def sentiment_columns(contract: SourceContract) -> tuple[tuple[str, str], ...]:
    """The raw columns the loader derives from the contract's sentiment columns, with their DuckDB types."""
    return tuple(
        pair
        for column in contract.sentiment_columns
        for pair in ((language_column(column.name), "VARCHAR"), (sentiment_column(column.name), SENTIMENT_TYPE))
    )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def score_checked_file(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> int:
    """Adds the language and sentiment columns to the temp table `checked_file` (landing.py) for the rows that
    load; call it after personal_data.protect_checked_file, so that a text cleared for an erasure is not
    scored. Returns the number of distinct texts scored."""
    scored = 0
    for column in contract.sentiment_columns:
        text, language, sentiment = (
            _quote(column.name),
            _quote(language_column(column.name)),
            _quote(sentiment_column(column.name)),
        )
        con.execute(f"alter table checked_file add column {language} varchar")
        con.execute(f"alter table checked_file add column {sentiment} {SENTIMENT_TYPE}")
        texts = [
            value
            for (value,) in con.execute(
                f"select distinct {text} from checked_file where len(_problems) = 0 and {text} is not null"
            ).fetchall()
        ]
        results = {value: result for value, result in score_comments(texts).items() if result is not None}
        scored += len(texts)
        if not results:
            continue
        scores = pa.table(
            {
                "text": pa.array(list(results), pa.string()),
                "language": pa.array([r.language for r in results.values()], pa.string()),
                "sentiment": pa.array([r.sentiment for r in results.values()], pa.decimal128(5, 4)),
            }
        )
        con.register("comment_scores", scores)
        con.execute(f"""
            update checked_file set {language} = scores.language, {sentiment} = scores.sentiment
            from comment_scores as scores
            where scores.text = checked_file.{text} and len(checked_file._problems) = 0
        """)
        con.unregister("comment_scores")
    return scored
