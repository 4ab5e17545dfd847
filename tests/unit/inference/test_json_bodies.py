"""`inputs.parse_json`: its scanner-only path reads what json.loads reads, hands on the rest."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hotswap_inference import inputs
from hotswap_inference.errors import BadInput

OBJECTS = [
    b"{}",
    b'{"input": "some text"}',
    b'{"input":["a","b"],"x":1.5e3,"y":null,"z":true}',
    b'{"input": "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x95"}',  # UTF-8, 2 to 4 bytes
    b'{"input": "\\ud83c\\udf55 \\u00e9"}',  # escaped pair and BMP character
    b'{"input": "\\ud800"}',  # a lone escaped surrogate: json.loads keeps it
    b'{"a": 1, "a": 2}',  # the last of equal keys, as json.loads
    b'{"n": NaN, "i": -Infinity}',  # json.loads' default constants
    b'{"deep": [[[[{"x": [1]}]]]]}',
]
HANDED_ON = [
    b' {"input": "x"}',  # leading whitespace
    b'{"input": "x"} \n',  # trailing whitespace
    b'\xef\xbb\xbf{"input": "x"}',  # a UTF-8 byte-order mark
    '{"input": "x"}'.encode("utf-16-le"),  # "{" then a zero byte
    '{"input": "x"}'.encode("utf-32-le"),
    b'["input"]',  # not an object
]
BROKEN = [
    b'{"input": "x"}{"input": "y"}',  # extra data
    b'{"input": "x",}',
    b'{"input": "\xff"}',  # not UTF-8
    b'{"input": "a\nb"}',  # a raw control character (strict)
    b'{"n": ' + b"1" * 5000 + b"}",  # an integer longer than Python reads
    b"{" + b'"a":[' * 3000 + b"1" + b"]" * 3000 + b"}",  # nested past the recursion limit
    b"{}}",
    b"{",
    b"}",
    b"",
    b"   ",
]


def loaded(raw: bytes) -> Any:
    return json.loads(raw)


@pytest.mark.parametrize("raw", OBJECTS)
def test_a_plain_object_is_read_by_the_scanner_as_json_loads_reads_it(raw: bytes) -> None:
    scanned = inputs.scan_object(raw)
    assert scanned is not None
    assert json.dumps(scanned) == json.dumps(loaded(raw))  # NaN compares unequal to itself
    assert json.dumps(inputs.parse_json(raw)) == json.dumps(loaded(raw))


@pytest.mark.parametrize("raw", HANDED_ON)
def test_other_valid_bodies_are_handed_on_and_still_read(raw: bytes) -> None:
    assert inputs.scan_object(raw) is None
    assert inputs.parse_json(raw) == loaded(raw)


@pytest.mark.parametrize("raw", BROKEN)
def test_a_broken_body_is_handed_on_and_refused_naming_the_body(raw: bytes) -> None:
    assert inputs.scan_object(raw) is None
    with pytest.raises(BadInput) as refused:
        inputs.parse_json(raw)
    assert str(refused.value).startswith("body: "), refused.value


def test_the_broken_bodies_do_break_json_loads() -> None:
    """The premise of the test above: each of them fails `json.loads` itself."""
    for raw in BROKEN:
        with pytest.raises((ValueError, RecursionError)):
            json.loads(raw)
    assert sys.get_int_max_str_digits() < 5000
