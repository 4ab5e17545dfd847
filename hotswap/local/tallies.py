"""What a load loop saw: answers by model version and arm, failures, undeclared versions."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from hotswap.local.declarations import Declared


@dataclass
class Tally:
    """What a load loop saw; safe to update from several threads."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (version, arm)
    failures: Counter[str] = field(default_factory=Counter)  # "where: reason" -> count
    undeclared: Counter[str] = field(default_factory=Counter)  # "where: version" -> count
    in_service: set[str] = field(default_factory=set)
    rewards: Counter[tuple[str, str]] = field(default_factory=Counter)  # credited, by arm
    reward_sums: dict[tuple[str, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self, where: str, status: int, version: str, arm: str, *, allowed: Declared | None
    ) -> None:
        with self.lock:
            if status == 503 and where not in self.in_service:
                return  # not ready yet: a Service would not send it traffic
            self.in_service.add(where)
            if status != 200:
                self.failures[f"{where}: HTTP {status}"] += 1
                return
            self.answers[(version, arm)] += 1
        if allowed is not None and version not in (versions := allowed.versions()):
            with self.lock:
                self.undeclared[f"{where} answered {version}, declared {sorted(versions)}"] += 1

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
        return self.answered + self.failed

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
            )
