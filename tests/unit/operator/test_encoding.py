"""Parsing bodies into typed specs: bad input names the field."""

from __future__ import annotations

import pytest
from hotswap_operator import encoding, specs


def test_a_missing_required_field_is_named() -> None:
    with pytest.raises(encoding.ParseError, match=r"spec\.selector is required"):
        specs.parse_canary({"model": "intent", "version": "intent-x"})


def test_a_wrong_type_is_named_with_its_path() -> None:
    body = {
        "model": "intent",
        "version": "v",
        "selector": {"matchLabels": {"a": "b"}},
        "strategy": {"type": "Steps", "steps": [{"name": "s", "setWeight": "ten"}]},
    }
    with pytest.raises(encoding.ParseError, match=r"spec\.strategy\.steps\[0\]\.setWeight"):
        specs.parse_canary(body)


def test_an_unknown_strategy_is_refused() -> None:
    body = {
        "model": "m",
        "version": "v",
        "selector": {"matchLabels": {"a": "b"}},
        "strategy": {"type": "Roulette"},
    }
    with pytest.raises(encoding.ParseError, match="Roulette"):
        specs.parse_canary(body)


def test_dump_leaves_out_none_unless_asked() -> None:
    step = specs.Step(name="s", set_weight=5)
    assert encoding.dump(step) == {"name": "s", "setWeight": 5}
    assert encoding.dump(step, keep_none=True) == {
        "name": "s",
        "setWeight": 5,
        "pause": None,
        "analysis": None,
    }


def test_a_class_s_annotations_are_resolved_once_not_on_every_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/scale.md: resolving them on every parse was 23% of the idle operator's CPU."""
    import dataclasses
    import typing

    @dataclasses.dataclass(frozen=True)
    class Weighted:  # a class of its own: nothing has parsed it before
        name: str
        max_weight: int | None = None

    resolved: list[type] = []
    real = typing.get_type_hints

    def counting(cls: type, *args: object, **kwargs: object) -> dict[str, object]:
        resolved.append(cls)
        return real(cls, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(typing, "get_type_hints", counting)
    first = encoding.load(Weighted, {"name": "a", "maxWeight": 5}, where="spec")
    second = encoding.load(Weighted, {"name": "b"}, where="spec")
    assert (first, second) == (Weighted("a", 5), Weighted("b")), "parsed as before"
    assert resolved == [Weighted], "resolved on the first parse only"
    with pytest.raises(encoding.ParseError, match=r"spec\.maxWeight must be of type int"):
        encoding.load(Weighted, {"name": "c", "maxWeight": "five"}, where="spec")
