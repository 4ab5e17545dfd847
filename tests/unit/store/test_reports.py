"""A pod's report: round trips, names the field of a malformed reply, reads today's replies."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from hotswap.store.errors import IntegrityError
from hotswap.store.reports import (
    ArmSignals,
    Histogram,
    PodReport,
    PredictorInfo,
    ReloadFailure,
    Signals,
)
from hotswap.store.routes import Arm, Routing

OLD = Arm("20261128_100000_aaaaaaaa", "sha256:" + "a" * 64)
NEW = Arm("20261128_110000_bbbbbbbb", "sha256:" + "b" * 64)
ROUTING = Routing(stable=OLD, canary=NEW, weight=20, mirror_percent=5, generation=7)
BOUNDS = (0.1, 0.5, 1.0)


def arm_signals(version: str, arm: str, *, requests: int = 10, label: int = 4) -> ArmSignals:
    return ArmSignals(
        version,
        arm,
        requests=requests,
        errors=1,
        slow=2,
        latency=Histogram(BOUNDS, (3, 4, 2, 0), 2.5),
        feedback_count=3,
        feedback_sum=2.0,
        feedback_sum_squares=1.5,
        labels={"food_order": label, "smalltalk": 5},
        confidence=Histogram(BOUNDS, (0, 1, 8, 0), 7.25),
    )


def full_report() -> PodReport:
    signals = Signals(
        "3f9c1a2b4d5e6f70",
        "2026-11-28T14:00:00+00:00",
        0.25,
        [arm_signals(OLD.version, "stable"), arm_signals(NEW.version, "canary", requests=3)],
    )
    return PodReport(
        model="intent",
        ready=True,
        routing=ROUTING,
        source="routing",
        predictors={
            OLD.version: PredictorInfo("fast", None),
            NEW.version: PredictorInfo("sklearn", "x"),
        },
        last_error=ReloadFailure(
            "load_failed", NEW.version, "digest mismatch", 6, "2026-11-28T14:30:00+00:00"
        ),
        pid=4242,
        signals=signals,
    )


def todays_reply() -> dict[str, Any]:
    """What GET /admin/status answered before signals: the keys the operator reads today."""
    return ROUTING.to_dict() | {
        "model": "intent",
        "ready": True,
        "source": "routing",
        "predictors": {OLD.version: {"kind": "sklearn", "fallbackReason": None}},
        "lastError": None,
        "pid": 17,
    }


def test_a_report_round_trips_through_json() -> None:
    report = full_report()
    wire = json.loads(json.dumps(report.to_dict()))
    assert PodReport.from_dict(wire) == report
    assert wire["signals"]["arms"][0]["feedbackSumSquares"] == 1.5, wire["signals"]


def test_the_wire_keeps_the_reply_keys_the_operator_reads() -> None:
    wire = full_report().to_dict()
    assert {k: wire[k] for k in ROUTING.to_dict()} == ROUTING.to_dict()
    for key in ("model", "ready", "source", "predictors", "lastError", "pid", "signals"):
        assert key in wire, f"expected {key!r} in the reply, saw {sorted(wire)}"
    assert wire["predictors"][NEW.version] == {"kind": "sklearn", "fallbackReason": "x"}


def test_a_pod_that_serves_nothing_yet_reads_as_not_ready() -> None:
    wire = PodReport(model="intent", ready=False, pid=3).to_dict()
    expected = {"generation": None, "stable": None, "canary": None, "weight": 0}
    assert {k: wire[k] for k in expected} == expected, wire
    back = PodReport.from_dict(wire)
    assert back.routing is None and back.versions == () and not back.reports(ROUTING), back


def test_todays_reply_without_signals_parses_and_reports_the_routing() -> None:
    report = PodReport.from_dict(todays_reply())
    assert report.signals is None, "no signals in the reply is no data, not zeros"
    assert report.reports(ROUTING), report
    assert report.versions == (OLD.version, NEW.version) and report.generation == 7
    assert report.predictors[OLD.version] == PredictorInfo("sklearn", None)


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        ({}, True),
        ({"generation": 6}, False),
        ({"weight": 50}, False),
        ({"canary": None, "weight": 0}, False),
        ({"stable": NEW.to_dict()}, False),
    ],
)
def test_reports_the_declared_routing_only_when_it_serves_exactly_it(
    change: dict[str, Any], reported: bool
) -> None:
    report = PodReport.from_dict(todays_reply() | change)
    assert report.reports(ROUTING) is reported, f"{change}: expected {reported}"


def test_failure_at_names_only_the_failure_of_that_generation() -> None:
    report = full_report()
    assert report.failure_at(6) == report.last_error
    assert report.failure_at(6).describe() == f"{NEW.version}: digest mismatch"  # type: ignore[union-attr]
    assert report.failure_at(7) is None


def set_path(body: dict[str, Any], path: list[Any], value: Any) -> None:
    for step in path[:-1]:
        body = body[step]
    if value is DROP:
        del body[path[-1]]
    else:
        body[path[-1]] = value


DROP = object()


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (["model"], 3, "pod report.model"),
        (["ready"], "yes", "pod report.ready"),
        (["pid"], -1, "pod report.pid"),
        (["lastError", "generation"], "6", "lastError.generation"),
        (["signals", "epoch"], DROP, "signals.epoch"),
        (["signals", "slowSeconds"], True, "signals.slowSeconds"),
        (["signals", "arms"], {}, "signals.arms"),
        (["signals", "arms", 1, "requests"], 2.5, "signals.arms[1].requests"),
        (["signals", "arms", 0, "errors"], -1, "signals.arms[0].errors"),
        (["signals", "arms", 0, "version"], "v2", "signals.arms[0].version"),
        (["signals", "arms", 0, "labels", "smalltalk"], "5", "signals.arms[0].labels.smalltalk"),
        (["signals", "arms", 0, "latency", "counts"], [1, 2], "signals.arms[0].latency"),
        (["signals", "arms", 0, "latency", "counts", 0], None, "signals.arms[0].latency.counts[0]"),
        (["signals", "arms", 0, "confidence", "bounds", 1], "x", "confidence.bounds[1]"),
        (["signals", "arms", 0, "confidence", "sum"], DROP, "signals.arms[0].confidence.sum"),
        (["predictors", OLD.version, "kind"], None, f"predictors.{OLD.version}.kind"),
    ],
)
def test_a_malformed_reply_names_the_field(path: list[Any], value: Any, named: str) -> None:
    good = full_report().to_dict()
    PodReport.from_dict(copy.deepcopy(good))  # the twin: unchanged, it parses
    set_path(good, path, value)
    with pytest.raises(IntegrityError) as caught:
        PodReport.from_dict(good)
    assert named in str(caught.value), f"expected {named!r} in: {caught.value}"


def test_a_reply_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(IntegrityError, match="pod report must be a JSON object"):
        PodReport.from_dict(["not", "an", "object"])


def test_histograms_count_per_bucket_with_one_above_the_last_bound() -> None:
    histogram = Histogram(BOUNDS, (1, 0, 2, 3), 9.0)
    assert histogram.count == 6
    with pytest.raises(ValueError, match="5 counts for 3 bounds"):
        Histogram(BOUNDS, (1, 0, 2, 3, 0))
    with pytest.raises(ValueError, match="rising"):
        Histogram((0.5, 0.1, 1.0), (0, 0, 0, 0))


def test_signals_since_a_baseline_subtract_and_a_new_epoch_counts_all() -> None:
    now = full_report().signals
    assert now is not None
    earlier = Signals(
        now.epoch, now.started_at, 0.25, [arm_signals(OLD.version, "stable", requests=4, label=1)]
    )
    delta = {arm.key: arm for arm in now.since(earlier)}
    stable = delta[(OLD.version, "stable")]
    assert (stable.requests, stable.errors, stable.feedback_count) == (6, 0, 0), stable
    assert stable.labels == {"food_order": 3}, stable.labels
    assert stable.latency.count == 0 and stable.latency.sum == 0.0, stable.latency
    assert delta[(NEW.version, "canary")] == now.arm(NEW.version, "canary"), "new arm: all of it"
    restarted = Signals("another-epoch", now.started_at, 0.25, earlier.arms)
    assert now.since(restarted) == now.arms, "a restart: everything since it counts"
    assert now.since(None) == now.arms


def test_arm_signals_of_two_pods_add_up() -> None:
    one = arm_signals(OLD.version, "stable")
    both = one.plus(one)
    assert (both.requests, both.slow, both.feedback_sum) == (20, 4, 4.0), both
    assert both.labels == {"food_order": 8, "smalltalk": 10}
    assert both.latency.counts == (6, 8, 4, 0) and both.latency.sum == 5.0
    with pytest.raises(ValueError, match="cannot combine"):
        one.plus(arm_signals(NEW.version, "canary"))
    with pytest.raises(ValueError, match="went down"):
        one.minus(both)
    fewer_requests = arm_signals(OLD.version, "stable", requests=20)
    with pytest.raises(ValueError, match="went down"):
        one.minus(fewer_requests)
