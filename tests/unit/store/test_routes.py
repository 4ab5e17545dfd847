"""Routing fields are validated strictly, with the CRD's bounds; errors name the field and fix."""

from __future__ import annotations

from typing import Any

import pytest

from hotswap.store import routes
from hotswap.store.errors import IntegrityError

STABLE = {"version": "20261128_142501_3f9c1a2b", "digest": "sha256:" + "0" * 64}
CANARY = {"version": "20261128_142502_4a0d2b3c", "digest": "sha256:" + "1" * 64}
MAX_INT64 = 2**63 - 1


def body(**fields: Any) -> dict[str, Any]:
    return {"stable": STABLE, "canary": CANARY, "weight": 20, "generation": 3} | fields


def refused(value: dict[str, Any]) -> str:
    with pytest.raises(IntegrityError) as caught:
        routes.Routing.from_dict(value)
    message = str(caught.value)
    for internal in ("__init__", "Traceback", "positional argument", "keyword argument"):
        assert internal not in message, f"message shows Python internals: {message}"
    assert len(message) < 400, f"message echoes the input: {len(message)} characters"
    return message


def test_a_full_routing_is_accepted_as_written() -> None:
    routing = routes.Routing.from_dict(
        body(weight=100, mirrorPercent=0, stickyHeader="X-User-Bucket", generation=MAX_INT64)
    )
    assert routing.to_dict() == body(
        weight=100, mirrorPercent=0, stickyHeader="X-User-Bucket", generation=MAX_INT64
    )
    assert routes.Routing.from_dict({"stable": STABLE}) == routes.Routing(
        stable=routes.Arm(**STABLE)
    )


@pytest.mark.parametrize("generation", [0, 1, MAX_INT64])
def test_generations_within_int64_are_accepted(generation: int) -> None:
    assert routes.Routing.from_dict(body(generation=generation)).generation == generation


@pytest.mark.parametrize("generation", [10**30, MAX_INT64 + 1, -1, 2.0, "3", True, None])
def test_generations_outside_int64_or_not_integers_are_refused(generation: object) -> None:
    message = refused(body(generation=generation))
    assert "generation must be an integer 0-9223372036854775807" in message, message


@pytest.mark.parametrize("field", ["weight", "mirrorPercent"])
@pytest.mark.parametrize("value", [33.3, "50", True, False, None, -1, 101, 50.0])
def test_percentages_are_integers_0_to_100_never_coerced(field: str, value: object) -> None:
    message = refused(body(**{field: value}))
    assert f"{field} must be an integer 0-100" in message and repr(value)[:8] in message, message


@pytest.mark.parametrize("field", ["weight", "mirrorPercent"])
@pytest.mark.parametrize("value", [0, 100])
def test_percentage_bounds_are_accepted(field: str, value: int) -> None:
    routing = routes.Routing.from_dict(body(**{field: value}))
    assert routing.to_dict()[field] == value


@pytest.mark.parametrize(
    "header",
    [
        "",
        "X-Key\r\nX-Evil: 1",
        "X-Key\n",
        "X" * 100_000,
        "X" * 65,
        "-X-Key",
        "X_Key",
        "X Key",
        "X-K\u00e9y",
        7,
        None,
    ],
)
def test_sticky_headers_outside_the_crd_pattern_are_refused(header: object) -> None:
    message = refused(body(stickyHeader=header))
    assert "stickyHeader must be" in message and "^[A-Za-z0-9][A-Za-z0-9-]*$" in message, message


@pytest.mark.parametrize(
    "header",
    ["Authorization", "authorization", "COOKIE", "Proxy-Authorization", "Host", "Content-Length",
     "X-Forwarded-For", "X-Api-Key"],
)  # fmt: skip
def test_sticky_headers_that_carry_identity_or_framing_are_refused(header: str) -> None:
    message = refused(body(stickyHeader=header))
    assert f"stickyHeader {header!r} is not allowed" in message, message
    assert "X-Request-Key" in message, f"the message should say what to use instead: {message}"


@pytest.mark.parametrize("header", ["X-Request-Key", "x-user-id", "A", "A" * 64, "9-Bucket"])
def test_ordinary_sticky_headers_are_accepted(header: str) -> None:
    assert routes.Routing.from_dict(body(stickyHeader=header)).sticky_header == header


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ([], "routing must be a JSON object"),
        ({"weight": 0}, "routing stable is missing"),
        (body(stable=None), "routing stable must be an object"),
        (body(stable="20261128_142501_3f9c1a2b"), "routing stable must be an object"),
        (body(canary={}), "routing canary.version is missing"),
        (body(canary=[1]), "routing canary must be an object"),
        (body(stable=STABLE | {"extra": 1}), "routing stable has unknown field"),
        (body(stable={"version": STABLE["version"]}), "routing stable.digest is missing"),
        (body(stable=STABLE | {"version": "../x"}), "routing stable.version"),
        (body(stable=STABLE | {"version": 7}), "routing stable.version must be a string"),
        (body(canary=CANARY | {"digest": "sha256:00"}), "routing canary.digest"),
        (body(canary=None), "weight must be 0 when there is no canary"),
    ],
)
def test_malformed_shapes_name_the_field(value: Any, named: str) -> None:
    message = refused(value)
    assert named in message, f"expected {named!r} in {message!r}"


def test_direct_construction_is_held_to_the_same_rules() -> None:
    stable = routes.Arm(**STABLE)
    assert routes.Routing(stable=stable, generation=MAX_INT64).generation == MAX_INT64
    with pytest.raises(IntegrityError, match="generation"):
        routes.Routing(stable=stable, generation=MAX_INT64 + 1)
    with pytest.raises(IntegrityError, match="stickyHeader 'Cookie' is not allowed"):
        routes.Routing(stable=stable, sticky_header="Cookie")
