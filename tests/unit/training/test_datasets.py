"""Datasets: the shipped data is reproducible; bad files are refused naming line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotswap.training import datasets, intents, training
from hotswap.training.errors import DatasetError

GOOD_ROWS = [("order a pizza", "food"), ("hi there", "chat")] * 6


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "text,label") -> Path:
    path.write_text("\n".join([header, *(f"{text},{label}" for text, label in rows)]) + "\n")
    return path


def refusal(path: Path) -> str:
    with pytest.raises(DatasetError) as caught:
        datasets.load_text(path)
    return str(caught.value)


def test_shipped_csv_is_what_the_generator_writes() -> None:
    shipped = datasets.DEFAULT_TEXT.read_text(encoding="utf-8")
    assert shipped == intents.render_csv(intents.compose_rows()), (
        "data/intents.csv differs from `python -m hotswap.training.intents`: regenerate it"
    )


def test_shipped_dataset_has_six_intents_of_several_hundred_rows() -> None:
    summary = datasets.load_text().summary()
    assert 300 <= summary["rows"] <= 500, f"expected 300-500 rows, saw {summary['rows']}"
    assert len(summary["classes"]) == 6, f"expected 6 intents, saw {summary['classes']}"
    assert min(summary["counts"].values()) >= 50, f"unbalanced counts {summary['counts']}"


def test_iris_is_numeric_rows_of_three_species() -> None:
    iris = datasets.load_iris()
    assert len(iris.inputs) == 150 and len(iris.inputs[0]) == 4
    assert iris.classes == ["setosa", "versicolor", "virginica"]


def test_missing_column_is_named(tmp_path: Path) -> None:
    message = refusal(write_csv(tmp_path / "d.csv", GOOD_ROWS, header="text,intent"))
    assert "line 1" in message and "'label'" in message, message


def test_single_class_is_refused(tmp_path: Path) -> None:
    message = refusal(write_csv(tmp_path / "d.csv", [("hello", "chat")] * 12))
    assert "single class 'chat'" in message, message


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("")
    assert "is empty" in refusal(tmp_path / "d.csv")


def test_too_few_rows_are_refused(tmp_path: Path) -> None:
    message = refusal(write_csv(tmp_path / "d.csv", GOOD_ROWS[:4]))
    assert "has 4 rows" in message, message


def test_a_label_with_one_row_is_named(tmp_path: Path) -> None:
    message = refusal(write_csv(tmp_path / "d.csv", [*GOOD_ROWS, ("bye", "farewell")]))
    assert "'farewell'" in message, message


def test_empty_field_names_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [*GOOD_ROWS[:3], ("", "chat"), *GOOD_ROWS])
    message = refusal(path)
    assert "line 5" in message and "'text'" in message, message


def test_unquoted_comma_names_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [("well, hi", "chat"), *GOOD_ROWS])
    message = refusal(path)
    assert "line 2" in message and "more fields" in message, message


def test_malformed_jsonl_line_is_named(tmp_path: Path) -> None:
    lines = [json.dumps({"text": t, "label": label}) for t, label in GOOD_ROWS]
    lines.insert(2, '{"text": "oops", "label": ')
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    message = refusal(tmp_path / "d.jsonl")
    assert "line 3" in message and "not valid JSON" in message, message


def test_jsonl_without_a_field_names_it(tmp_path: Path) -> None:
    lines = [json.dumps({"text": t, "label": label}) for t, label in GOOD_ROWS]
    lines.append(json.dumps({"text": "no label here"}))
    (tmp_path / "d.jsonl").write_text("\n".join(lines))
    message = refusal(tmp_path / "d.jsonl")
    assert f"line {len(lines)}" in message and "'label'" in message, message


def test_unknown_suffix_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("text,label\n")
    assert ".jsonl" in refusal(tmp_path / "d.txt")


def test_jsonl_dataset_trains_and_records_its_sha256(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in GOOD_ROWS))
    result = training.train(tmp_path / "models", "tiny", dataset=path)
    assert result.metrics["dataset"]["sha256"] == datasets.hash_file(path)
    assert result.metrics["dataset"]["counts"] == {"chat": 6, "food": 6}


def test_random_forest_refuses_a_text_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", GOOD_ROWS)
    with pytest.raises(DatasetError, match="--estimator logreg"):
        training.train(tmp_path / "models", "iris", dataset=path, estimator="random-forest")
    assert not (tmp_path / "models").exists(), "a refused request must publish nothing"


def test_spreadsheet_csv_with_bom_and_extra_columns_reads(tmp_path: Path) -> None:
    body = "".join(f"{i},{text},{label}\n" for i, (text, label) in enumerate(GOOD_ROWS))
    path = tmp_path / "d.csv"
    path.write_text("\ufeffid,text,label\n" + body, encoding="utf-8")
    dataset = datasets.load_text(path)
    assert dataset.inputs[:2] == ["order a pizza", "hi there"], dataset.inputs[:2]
