"""What a load loop saw: answers by model version and arm, failures, undeclared versions,
503s from targets not ready yet, and the split of arms by request key under each settled
routing generation."""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

from hotswap.local.declarations import Declared

SETTLED_SECONDS = 3.0  # a routing declared this long is applied by every pod (signal, 1 s poll)
CANARY = "canary"


@dataclass
class Split:
    """The arms that answered each request key while one routing generation was settled.

    Keys are sticky: a key's arm depends only on its hash bucket and the weight, so each key
    gets one arm, and the share of keys on the canary is the weight give or take the sampling
    of keys (bounded by `sigmas` binomial standard deviations)."""

    weight: int
    arms: dict[str, set[str]] = field(default_factory=dict)  # request key -> arms that answered

    @property
    def keys(self) -> int:
        return len(self.arms)

    @property
    def canary_share(self) -> float:
        return sum(1 for arms in self.arms.values() if arms == {CANARY}) / max(self.keys, 1)

    def bound(self, sigmas: float) -> float:
        """How far the canary share may stray from the weight, for this many keys."""
        p = self.weight / 100
        return sigmas * math.sqrt(p * (1 - p) / max(self.keys, 1)) + 1 / max(self.keys, 1)

    def problem(self, *, sigmas: float = 4.0) -> str | None:
        """Why the answers do not show the declared split, or None."""
        mixed = sorted(key for key, arms in self.arms.items() if len(arms) > 1)
        if mixed:
            return f"keys answered by both arms (not sticky): {mixed[:5]}"
        share, bound = self.canary_share, self.bound(sigmas)
        if abs(share - self.weight / 100) > bound:
            return (
                f"canary answered {share:.1%} of {self.keys} keys, declared weight "
                f"{self.weight}% (tolerance ±{bound:.1%})"
            )
        return None


@dataclass
class Tally:
    """What a load loop saw; safe to update from several threads."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (version, arm)
    failures: Counter[str] = field(default_factory=Counter)  # "where: reason" -> count
    undeclared: Counter[str] = field(default_factory=Counter)  # "where: version" -> count
    in_service: set[str] = field(default_factory=set)
    not_ready: Counter[str] = field(default_factory=Counter)  # where -> 503s before its first 200
    splits: dict[int, Split] = field(default_factory=dict)  # settled routing generation -> split
    rewards: Counter[tuple[str, str]] = field(default_factory=Counter)  # credited, by arm
    reward_sums: dict[tuple[str, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        where: str,
        status: int,
        version: str,
        arm: str,
        *,
        allowed: Declared | None,
        key: str | None = None,
    ) -> None:
        with self.lock:
            if status == 503 and where not in self.in_service:
                self.not_ready[where] += 1  # not ready yet: a Service would not send it traffic
                return
            self.in_service.add(where)
            if status != 200:
                self.failures[f"{where}: HTTP {status}"] += 1
                return
            self.answers[(version, arm)] += 1
        if allowed is not None:
            self.check(where, version, arm, allowed=allowed, key=key)

    def check(
        self, where: str, version: str, arm: str, *, allowed: Declared, key: str | None
    ) -> None:
        """An answer against routing.json: a declared version; its arm, once settled."""
        versions = allowed.versions()
        settled = allowed.settled(SETTLED_SECONDS)
        with self.lock:
            if version not in versions:
                self.undeclared[f"{where} answered {version}, declared {sorted(versions)}"] += 1
            if settled is not None and key is not None:
                generation, weight = settled
                split = self.splits.setdefault(generation, Split(weight))
                split.arms.setdefault(key, set()).add(arm)

    def reward(self, version: str, arm: str, reward: float) -> None:
        with self.lock:
            self.rewards[(version, arm)] += 1
            self.reward_sums[(version, arm)] = self.reward_sums.get((version, arm), 0.0) + reward

    def mean_reward(self, version: str) -> float | None:
        count = sum(n for (v, _), n in self.rewards.items() if v == version)
        total = sum(n for (v, _), n in self.reward_sums.items() if v == version)
        return total / count if count else None

    def fail(self, where: str, reason: str) -> None:
        with self.lock:
            self.failures[f"{where}: {reason}"] += 1

    @property
    def answered(self) -> int:
        return sum(self.answers.values())

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def total(self) -> int:
        return self.answered + self.failed + sum(self.not_ready.values())

    def by_version(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for (version, _arm), n in self.answers.items():
            counts[version] += n
        return counts

    def copy(self) -> Tally:
        with self.lock:
            return Tally(
                Counter(self.answers),
                Counter(self.failures),
                Counter(self.undeclared),
                rewards=Counter(self.rewards),
                reward_sums=dict(self.reward_sums),
                not_ready=Counter(self.not_ready),
                splits={
                    g: Split(s.weight, {k: set(a) for k, a in s.arms.items()})
                    for g, s in self.splits.items()
                },
            )
