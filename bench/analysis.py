"""Rollout analysis: false rollbacks and detection speed of `hotswap_operator.statistics`.

Simulated rollouts at 10% canary weight, looked at continuously (a verdict after every 200
requests, up to 20,000 canary requests), every metric on at the defaults, judged by the very
functions the operator calls (`statistics.states_for` and `statistics.overall`, as `judge`
does), vectorised over runs with numpy. Every request gets feedback (a 0/1 reward) and a
predicted label. Scenarios:
  - equal: canary = stable (errors 1%, slow 5%, reward 0.80, labels 50/30/20%): the false
    rollback rate, Fail at any look over the whole horizon, including looks after a Pass;
  - errors: canary errors 2%; reward: canary reward 0.75; drift: canary labels 30/30/40%:
    canary requests until the first Fail (median and p90).
Targets: false rollback rate <= alpha (0.05); doubled error rate caught in a median of at most
1,500 canary requests. Prints a table; writes bench/results/analysis-<timestamp>.json. The live
part (a bad canary on the local control plane) goes in `measure_live`.

    .venv/bin/python bench/analysis.py [--runs 2000] [--detection-runs 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hotswap_operator import statistics
from hotswap_operator.statistics import AnalysisSettings, Signals

RESULTS = Path(__file__).resolve().parent / "results"
WEIGHT = 0.10
LOOK_EVERY = 200  # total requests between two looks
MAX_CANARY = 20_000
LOOKS = int(MAX_CANARY / WEIGHT / LOOK_EVERY)
CHUNK = 200  # runs simulated at once (memory: about 25 arrays of CHUNK x LOOKS floats)
TARGET_FALSE, TARGET_MEDIAN = 0.05, 1_500


@dataclass(frozen=True)
class Arm:
    errors: float = 0.01
    slow: float = 0.05
    reward: float = 0.80
    labels: tuple[float, ...] = (0.5, 0.3, 0.2)


SCENARIOS = {
    "equal": Arm(),
    "errors 1% -> 2%": Arm(errors=0.02),
    "reward 0.80 -> 0.75": Arm(reward=0.75),
    "labels 50/30/20 -> 30/30/40": Arm(labels=(0.3, 0.3, 0.4)),
}


def simulate(arm: Arm, requests: np.ndarray, rng: np.random.Generator) -> Signals:
    """One arm's cumulative counts at every look (shape (runs, LOOKS); labels one more axis),
    given its requests per look; every request gets a 0/1 reward and a label."""

    def hits(p: float) -> np.ndarray:
        return rng.binomial(requests, p).cumsum(1).astype(float)

    answered = requests.cumsum(1).astype(float)
    rewards = hits(arm.reward)
    labels = rng.multinomial(requests, arm.labels).cumsum(1).astype(float)
    return Signals(answered, hits(arm.errors), hits(arm.slow), answered, rewards, rewards, labels)


def first(mask: np.ndarray, canary_requests: np.ndarray) -> np.ndarray:
    """Canary requests at the first look where mask holds; inf where it never does."""
    seen = mask.any(1)
    index = mask.argmax(1)
    at = canary_requests[np.arange(len(index)), index]
    return np.where(seen, at, np.inf)


def run_scenario(
    canary_arm: Arm, runs: int, rng: np.random.Generator, settings: AnalysisSettings
) -> dict[str, Any]:
    fail_at, pass_at, by_metric = [], [], {name: 0 for name in settings.tested}
    for start in range(0, runs, CHUNK):
        size = min(CHUNK, runs - start)
        to_canary = rng.binomial(LOOK_EVERY, WEIGHT, size=(size, LOOKS))
        stable = simulate(Arm(), LOOK_EVERY - to_canary, rng)
        canary = simulate(canary_arm, to_canary, rng)
        codes = statistics.states_for(stable, canary, settings)
        verdict = statistics.overall(np.stack(list(codes.values()), axis=-1))
        fail = verdict == statistics.STATES.index(statistics.FAIL)
        fail_at.append(first(fail, canary.requests))
        pass_at.append(first(verdict == statistics.STATES.index(statistics.PASS), canary.requests))
        for name, code in codes.items():
            by_metric[name] += int((code == statistics.STATES.index(statistics.FAIL)).any(1).sum())
    return summarise(np.concatenate(fail_at), np.concatenate(pass_at), by_metric)


def summarise(
    fail_at: np.ndarray, pass_at: np.ndarray, by_metric: dict[str, int]
) -> dict[str, Any]:
    runs = len(fail_at)
    rate = float(np.isfinite(fail_at).mean())
    return {
        "runs": runs,
        "fail_rate": rate,
        "fail_rate_upper95": wilson_upper(rate, runs),
        "fail_median_canary_requests": quantile(fail_at, 50),
        "fail_p90_canary_requests": quantile(fail_at, 90),
        "pass_rate": float(np.isfinite(pass_at).mean()),
        "pass_median_canary_requests": quantile(pass_at, 50),
        "runs_failed_by_metric": by_metric,
    }


def quantile(values: np.ndarray, q: float) -> float | None:
    """A percentile over all runs, runs that never got there counting as beyond the horizon:
    None when that percentile is beyond it."""
    value = float(np.percentile(values, q, method="inverted_cdf"))
    return value if np.isfinite(value) else None


def wilson_upper(rate: float, runs: int, z: float = 1.96) -> float:
    centre = rate + z * z / (2 * runs)
    spread = z * np.sqrt(rate * (1 - rate) / runs + z * z / (4 * runs * runs))
    return float((centre + spread) / (1 + z * z / runs))


LIVE_MODEL, LIVE_NAMESPACE, LIVE_PODS, LIVE_WEIGHT, LIVE_SECONDS = (
    "intent",
    "hotswap-bench-analysis",
    3,
    10,
    300.0,
)
LIVE_TARGET_SECONDS = 30.0


def measure_live(args: argparse.Namespace) -> dict[str, Any] | None:
    """The live part, on the local control plane: 3 pods at about 200 predictions/s, each
    answer rewarded from its true label; a version trained on half-wrong labels rolled out
    at 10% (Steps: 10%, then analysis; spec.analysis defaults). Seconds from the bad canary's
    first answer to every pod serving stable only, and failed requests meanwhile (targets
    30 s, 0)."""
    from hotswap.local import environments, objects, releasing, traffic
    from hotswap.local.declarations import Declared

    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="hotswap-analysis-"))
        env = stack.enter_context(
            environments.started(
                Path(scratch), model=LIVE_MODEL, namespace=LIVE_NAMESPACE, say=print
            )
        )
        env.add_replicas(LIVE_PODS)
        stable = releasing.train_and_register(env, seed=1)
        body = objects.canary_manifest(
            LIVE_MODEL, model=LIVE_MODEL, version=stable.name, labels=env.labels
        )
        env.objects.create("canaries", body)
        objects.wait_for_condition(env.objects, "canaries", LIVE_MODEL, "Ready", timeout=120)
        bad = releasing.train_and_register(env, seed=3, label_noise=0.5)
        load = traffic.Load(
            tuple(pod.target for pod in env.pods),
            requests=400_000,
            seconds=LIVE_SECONDS,
            threads=args.live_clients,
            pause=args.live_pause,
            labelled=traffic.labelled_texts(),
        )
        with traffic.LiveTraffic(load, declared=Declared(env.paths)) as live:
            time.sleep(3.0)
            return roll_out_bad(env, live, bad, stable)
    return None


def roll_out_bad(env: Any, live: Any, bad: Any, stable: Any) -> dict[str, Any]:
    from hotswap.local import objects

    before = live.snapshot()
    started = time.monotonic()
    steps = [{"name": "ten", "setWeight": LIVE_WEIGHT}, {"name": "check", "analysis": {}}]
    spec = {"version": bad.name, "strategy": {"type": "Steps", "steps": steps}, "analysis": {}}
    env.objects.patch("canaries", LIVE_MODEL, {"spec": spec})
    first = objects.until(
        lambda: (answered_by(live, bad.version) > 0, time.monotonic()),
        timeout=60,
        what=f"a first answer from {bad.version}",
        every=0.02,
    )
    gone = objects.until(
        lambda: (all(serves_only(pod, stable.version) for pod in env.pods), time.monotonic()),
        timeout=LIVE_SECONDS,
        what=f"every pod serving {stable.version} only",
        every=0.05,
    )
    after = live.snapshot()
    status = env.objects.get("canaries", LIVE_MODEL).get("status") or {}
    seconds = time.monotonic() - started
    answers = after.answers - before.answers
    canary = sum(n for (version, _), n in answers.items() if version == bad.version)
    return {
        "pods": LIVE_PODS,
        "weight": LIVE_WEIGHT,
        "predictions_per_second": round(sum(answers.values()) / seconds, 1),
        "seconds_first_canary_answer_to_stable_only": round(gone - first, 2),
        "seconds_spec_change_to_first_canary_answer": round(first - started, 2),
        "canary_answers": canary,
        "failed_requests": after.failed - before.failed,
        "verdict": (status.get("lastAnalysis") or {}).get("message"),
        "elapsed_seconds": round(seconds, 1),
    }


def live_line(live: dict[str, Any] | None) -> str:
    if live is None:
        return "live part: not measured (run with --live: the local control plane, 3 pods)"
    took = live["seconds_first_canary_answer_to_stable_only"]
    met = took <= LIVE_TARGET_SECONDS and live["failed_requests"] == 0
    return (
        f"live: {live['pods']} pods at {live['predictions_per_second']:.0f} predictions/s, canary "
        f"at {live['weight']}%: {took:.1f} s from its first answer to stable only "
        f"({live['canary_answers']} canary answers), {live['failed_requests']} failed requests "
        f"vs target <= {LIVE_TARGET_SECONDS:.0f} s, 0 failed: {'met' if met else 'MISSED'}"
    )


def answered_by(live: Any, version: str) -> int:
    return sum(n for (v, _), n in live.snapshot().answers.items() if v == version)


def serves_only(pod: Any, version: str) -> bool:
    status = pod.admin_status()
    return (status.get("stable") or {}).get("version") == version and not status.get("canary")


def table(figures: dict[str, Any], alpha: float) -> str:
    def show(value: float | None) -> str:
        return f"{value:,.0f}" if value is not None else f"> {MAX_CANARY:,}"

    lines = [
        f"{'scenario':30} {'runs':>6} {'Fail rate':>10} {'median':>10} {'p90':>10} "
        f"{'Pass rate':>10}  (canary requests to the first Fail)"
    ]
    for name, f in figures.items():
        lines.append(
            f"{name:30} {f['runs']:>6} {f['fail_rate']:>10.2%} "
            f"{show(f['fail_median_canary_requests']):>10} "
            f"{show(f['fail_p90_canary_requests']):>10} {f['pass_rate']:>10.2%}"
        )
    equal, errors = figures["equal"], figures["errors 1% -> 2%"]
    median = errors["fail_median_canary_requests"]
    caught = median is not None and median <= TARGET_MEDIAN
    lines += [
        f"false rollback rate {equal['fail_rate']:.2%} (95% upper {equal['fail_rate_upper95']:.2%})"
        f" vs target <= {alpha:.0%}: {'met' if equal['fail_rate'] <= alpha else 'MISSED'}",
        f"doubled error rate caught in a median of {show(median)} canary requests vs target <= "
        f"{TARGET_MEDIAN:,}: {'met' if caught else 'MISSED'}",
        f"runs failed per metric when equal: {equal['runs_failed_by_metric']}",
    ]
    return "\n".join(lines)


def write(body: dict[str, Any]) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"analysis-{stamp}.json"
    body = {
        "benchmark": "analysis",
        "when": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **body,
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs with canary = stable")
    parser.add_argument("--detection-runs", type=int, default=1000, help="runs per bad canary")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--live", action="store_true", help="also the live part (local control plane, 3 pods)"
    )
    parser.add_argument("--live-clients", type=int, default=6, help="live load client threads")
    parser.add_argument("--live-pause", type=float, default=0.015, help="seconds between requests")
    args = parser.parse_args(argv)
    settings = AnalysisSettings()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    figures = {
        name: run_scenario(
            arm, args.runs if name == "equal" else args.detection_runs, rng, settings
        )
        for name, arm in SCENARIOS.items()
    }
    seconds = time.perf_counter() - started
    live = measure_live(args) if args.live else None
    print(table(figures, settings.alpha))
    print(f"simulated in {seconds:.0f} s")
    print(live_line(live))
    settings_doc = {
        "alpha": settings.alpha,
        "metric_alpha": settings.metric_alpha,
        "min_samples": settings.min_samples,
        "scales": {n: statistics.scale_of(n, t) for n, t in settings.tested.items()},
    }
    simulation = {"weight": WEIGHT, "look_every": LOOK_EVERY, "max_canary": MAX_CANARY}
    path = write(
        {
            "settings": settings_doc,
            "simulation": simulation,
            "seed": args.seed,
            "seconds": seconds,
            "scenarios": figures,
            "live": live,
        }
    )
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
