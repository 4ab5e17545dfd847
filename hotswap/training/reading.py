"""Reading text datasets: CSV with a `text,label` header, or JSONL with `text` and `label`.

Every refusal names the file, the line and the field, and says what a good file looks like.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hotswap.training.errors import DatasetError

FIELDS = ("text", "label")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def read_rows(path: Path) -> list[tuple[str, str]]:
    """(text, label) pairs of a CSV or JSONL file, in file order."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(f"{path}: unknown suffix {path.suffix!r}: use one of {sorted(SUFFIXES)}")
    content = read_text(path)
    if not content.strip():
        raise DatasetError(f"{path} is empty: give a header `text,label` and one row per example")
    return read_csv(path, content) if kind == "csv" else read_jsonl(path, content)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM, as spreadsheets write, is dropped
    except FileNotFoundError as exc:
        raise DatasetError(f"dataset {path} does not exist: check the --data path") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text ({exc.reason}): save it as UTF-8") from exc


def read_csv(path: Path, content: str) -> list[tuple[str, str]]:
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in FIELDS if name not in header]
    if missing:
        raise DatasetError(
            f"{path} line 1: header lacks column {missing[0]!r} (has {header}): "
            "the first line must name the columns, e.g. `text,label`"
        )
    reader.fieldnames = header
    try:
        return [_csv_row(path, reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise DatasetError(f"{path} line {reader.line_num}: {exc}: check its quoting") from exc


def _csv_row(path: Path, line: int, row: dict[str | Any, Any]) -> tuple[str, str]:
    if None in row:
        raise DatasetError(
            f"{path} line {line}: more fields than the header's {len(row) - 1}: "
            'quote a text that holds commas, e.g. "well, hi",smalltalk'
        )
    return _pair(path, line, row)


def read_jsonl(path: Path, content: str) -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        if line.strip():
            rows.append(_pair(path, number, _json_object(path, number, line)))
    return rows


def _json_object(path: Path, line: int, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{path} line {line}: not valid JSON ({exc.msg} at column {exc.colno}): "
            'write one object per line, e.g. {"text": "hi there", "label": "smalltalk"}'
        ) from exc
    if not isinstance(value, dict):
        raise DatasetError(
            f"{path} line {line}: expected a JSON object, got {type(value).__name__}"
        )
    return value


def _pair(path: Path, line: int, row: dict[str | Any, Any]) -> tuple[str, str]:
    return _field(path, line, row, "text"), _field(path, line, row, "label")


def _field(path: Path, line: int, row: dict[str | Any, Any], name: str) -> str:
    value = row.get(name)
    if name == "label" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # JSONL labels may be integers
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{path} line {line}: field {name!r} is missing or empty")
    return value.strip()
