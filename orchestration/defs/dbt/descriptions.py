"""What the Dagster UI says about dbt nodes that dbt itself leaves undescribed: a sentence for each generic test
(from the test's name, column and arguments), and a seed's rows instead of the empty SQL block dagster-dbt
shows for a CSV file. Pure functions of the manifest's node properties, so they are tested without dbt."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestration.settings import DBT_PROJECT_DIR

# A seed's contents in its asset description: enough rows to recognise the configuration; the file has the rest.
SEED_ROWS_SHOWN = 25
SEED_CELL_CHARS = 60
# Lists of accepted values longer than this are cut in a sentence.
VALUES_SHOWN = 8
# A generic test's own macro opens with a Jinja comment saying which rows it finds.
MACRO_DOC = re.compile(r"^\s*\{#-?\s*(.*?)\s*-?#\}", re.DOTALL)


def _join(values: list[Any]) -> str:
    shown = ", ".join(str(value) for value in values[:VALUES_SHOWN])
    return shown + (f" and {len(values) - VALUES_SHOWN} more" if len(values) > VALUES_SHOWN else "")


def _ref_name(text: str) -> str:
    """`ref('measures')` -> measures; anything else as written."""
    match = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", text or "")
    return match.group(1) if match else str(text)


def _bounds(arguments: Mapping[str, Any]) -> str:
    low, high = arguments.get("min_value"), arguments.get("max_value")
    inclusive = arguments.get("inclusive", True)
    if low is not None and high is not None:
        return f"lies between {low} and {high}" + ("" if inclusive else " (exclusive)")
    if low is not None:
        return f"is {'at least' if inclusive else 'above'} {low}"
    if high is not None:
        return f"is {'at most' if inclusive else 'below'} {high}"
    return "may take any value (no bound given)"


def generic_test_sentence(test_name: str, arguments: Mapping[str, Any], model: str, macro_doc: str = "") -> str:
    """A generic dbt test as a sentence about the rows it guards, e.g. `unique` on account_id of
    account_health_scores -> "account_health_scores.account_id is unique: no value occurs twice."."""
    column = arguments.get("column_name")
    subject = f"{model}.{column}" if column else model
    if test_name == "not_null":
        return f"{subject} is never null."
    if test_name == "unique":
        return f"{subject} is unique: no value occurs twice."
    if test_name == "accepted_values":
        return f"{subject} is one of: {_join(list(arguments.get('values', [])))} (nulls pass)."
    if test_name == "relationships":
        return f"Every {subject} exists as {_ref_name(arguments.get('to', ''))}.{arguments.get('field')} (nulls pass)."
    if test_name == "accepted_range":
        return f"{subject} {_bounds(arguments)} (nulls pass)."
    if test_name == "unique_combination":
        columns = ", ".join(arguments.get("combination_of_columns", []))
        return f"Each combination of ({columns}) occurs at most once in {model}."
    if test_name == "expression_is_true":
        return f"Every row of {model} satisfies: {' '.join(str(arguments.get('expression', '')).split())}"
    # A test of our own without a sentence here: its macro's opening comment says which rows fail it.
    given = {key: value for key, value in arguments.items() if key not in ("column_name", "model")}
    settings = f" ({', '.join(f'{key}={value}' for key, value in given.items())})" if given else ""
    found = f" It fails on: {macro_doc[0].lower()}{macro_doc[1:]}" if macro_doc else ""
    return f"{test_name} on {subject}{settings}.{found}"


def _macro_file(macro: Mapping[str, Any] | None) -> str:
    """The file a test macro of this project is defined in (its opening comment lies outside the macro's SQL)."""
    if not macro:
        return ""
    path = DBT_PROJECT_DIR / macro["original_file_path"]
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def macro_doc(macro_file: str) -> str:
    """The opening Jinja comment of a generic test's macro file, on one line ('' when it has none)."""
    match = MACRO_DOC.match(macro_file or "")
    return " ".join(match.group(1).split()) if match else ""


def describe_test(manifest: Mapping[str, Any], test: Mapping[str, Any]) -> str:
    """What a dbt test checks, for its Dagster asset check: its own description where it has one (YAML
    `description:`, or the `meta.description` dagster-dbt reads), else a sentence built from its metadata.
    A test with severity warn says that it never blocks."""
    own = (test.get("description") or "").strip() or (test.get("config", {}).get("meta") or {}).get("description")
    metadata = test.get("test_metadata")
    if own:
        text = " ".join(own.split())
    elif metadata:
        arguments = {**metadata.get("kwargs", {}), **(metadata.get("kwargs", {}).get("arguments") or {})}
        attached = manifest["nodes"].get(test.get("attached_node") or "", {})
        model = attached.get("name") or _ref_name(arguments.get("model", ""))
        namespace = metadata.get("namespace") or manifest["metadata"]["project_name"]
        macro = manifest.get("macros", {}).get(f"macro.{namespace}.test_{metadata['name']}")
        text = generic_test_sentence(metadata["name"], arguments, model, macro_doc(_macro_file(macro)))
    else:
        # A singular test without YAML: tests/test_definitions.py keeps this from reaching the UI.
        text = ""
    if text and str(test.get("config", {}).get("severity", "error")).lower() == "warn":
        text += " Severity warn: a failure is a warning and never blocks publishing."
    return text


def _cell(value: str) -> str:
    value = " ".join(value.split()).replace("|", "\\|")
    return value if len(value) <= SEED_CELL_CHARS else value[: SEED_CELL_CHARS - 1] + "…"


def seed_contents(path: Path, shown: str) -> str:
    """A seed's rows as a markdown table (the first SEED_ROWS_SHOWN rows), headed by the file it comes from."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        return f"#### Contents of {shown}\n\n_empty file_"
    header, body = rows[0], rows[1:]
    table = "\n".join(
        [
            "| " + " | ".join(_cell(name) for name in header) + " |",
            "|" + "---|" * len(header),
            *("| " + " | ".join(_cell(value) for value in row) + " |" for row in body[:SEED_ROWS_SHOWN]),
        ]
    )
    more = len(body) - SEED_ROWS_SHOWN
    note = f"\n\n_{more} more row(s) in {shown}_" if more > 0 else ""
    return f"#### Contents of {shown} ({len(body)} row(s))\n\n{table}{note}"
