"""Names are full ASCII matches: no trailing newline, no non-ASCII digits slip through."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hotswap.store import names
from hotswap.store.errors import InvalidName

VERSION = "20261128_142501_3f9c1a2b"
DIGEST = "sha256:" + "0" * 64
ARABIC_INDIC_EIGHT = "\u0668"
FULLWIDTH_ONE = "\uff11"

Check = Callable[[str], str]


@pytest.mark.parametrize(
    ("check", "good"),
    [
        (names.check_model_name, "intent"),
        (names.check_version_id, VERSION),
        (names.check_digest, DIGEST),
    ],
)
def test_a_valid_name_is_accepted_and_a_trailing_newline_is_refused(
    check: Check, good: str
) -> None:
    assert check(good) == good
    for suffix in ("\n", "\r\n", " ", "\x00"):
        with pytest.raises(InvalidName):
            check(good + suffix)


@pytest.mark.parametrize(
    "bad",
    [
        ARABIC_INDIC_EIGHT + VERSION[1:],
        VERSION[:9] + FULLWIDTH_ONE + VERSION[10:],
        VERSION.upper(),
        "\n" + VERSION,
    ],
)
def test_version_ids_take_ascii_digits_only(bad: str) -> None:
    with pytest.raises(InvalidName, match="YYYYMMDD_HHMMSS"):
        names.check_version_id(bad)


@pytest.mark.parametrize("bad", ["int\u0435nt", "model" + FULLWIDTH_ONE, "a" * 64, "-a", "a-"])
def test_model_names_are_ascii_dns_labels(bad: str) -> None:
    assert names.check_model_name("a" * 63) == "a" * 63
    with pytest.raises(InvalidName, match="DNS label"):
        names.check_model_name(bad)


def test_the_exported_patterns_refuse_a_trailing_newline_with_match_too() -> None:
    """Callers outside the store use `PATTERN.match`: the patterns must be anchored at the end."""
    for pattern, good in ((names.MODEL_NAME, "intent"), (names.VERSION_ID, VERSION)):
        assert pattern.match(good)
        assert not pattern.match(good + "\n")
        assert not pattern.match(good + "_")


def test_resource_name_refuses_a_newline_in_the_model_name() -> None:
    assert names.resource_name("intent", VERSION) == "intent-20261128-142501-3f9c1a2b"
    with pytest.raises(InvalidName):
        names.resource_name("intent\n", VERSION)
