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
