"""What the operator process holds: its settings (from HOTSWAP_* environment variables,
documented in docs/api.md), the API clients, the metrics, the bounded pool of threads the
Canaries' passes borrow, and one waker per Canary (an asyncio.Event its watch handler sets) so a
change is acted on at once instead of at the next tick; and the `Context` one reconcile of one
object gets from it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotswap.store import backends, buckets
from hotswap.store.errors import InvalidName
from hotswap_operator import conditions, statuses
from hotswap_operator.cluster import Apis, Watched, selects
from hotswap_operator.metrics import Metrics

CONSISTENCY_SECONDS = 5.0  # as kopf's settings.persistence.consistency_timeout
SETTLED_TICKS = 10  # a settled Canary is re-observed every 10 ticks instead of every tick


# Settings


class ConfigError(ValueError):
    """A setting that cannot work; the message names the variable and the fix."""


@dataclass(frozen=True)
class Config:
    model_root: Path  # the model volume, or with a `store` bucket the operator's local cache
    store: str | None = None  # HOTSWAP_STORE: s3://<bucket>[/<prefix>] (docs/object-store.md)
    reload_token_value: str | None = None  # HOTSWAP_RELOAD_TOKEN (local runs and tests)
    reload_token_file: Path | None = None  # HOTSWAP_RELOAD_TOKEN_FILE: re-read on every use
    admin_port: int = 8001  # a pod annotation hotswap.dev/admin-port overrides it
    metrics_port: int = 9189
    metrics_host: str = "0.0.0.0"
    tick_seconds: float = 1.0  # how often a Canary is re-observed while anything moves
    reconcile_threads: int = 4  # the pool every Canary's passes borrow a thread from
    signal_timeout: float = 10.0  # seconds one reload request may take (a pod loads a model)
    status_timeout: float = 3.0  # seconds one status request may take (answered from memory)
    prometheus_url: str | None = None  # the analysis reads Prometheus instead of the pods

    @functools.cached_property
    def backend(self) -> backends.Backend:
        """One per process (a bucket's client pools its connections)."""
        return backends.open_backend(self.store or self.model_root, cache=self.model_root)

    @property
    def reload_token(self) -> str | None:
        """The bearer token sent to the pods' admin port: the file's content, read again on
        every use (a rotated Secret reaches the operator as it reaches the pods, which re-read
        theirs per request), else HOTSWAP_RELOAD_TOKEN."""
        if self.reload_token_file is None:
            return self.reload_token_value
        return _read_token(self.reload_token_file)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    root = env.get("HOTSWAP_MODEL_ROOT", "")
    if not root:
        raise ConfigError(
            "HOTSWAP_MODEL_ROOT is not set: point it at the model volume root (with "
            "HOTSWAP_STORE=s3://..., at a writable cache folder such as an emptyDir)"
        )
    store = env.get("HOTSWAP_STORE") or None
    if store is not None:
        _check_store(store)
    token_file = (
        Path(env["HOTSWAP_RELOAD_TOKEN_FILE"]) if env.get("HOTSWAP_RELOAD_TOKEN_FILE") else None
    )
    if token_file is not None:
        _read_token(token_file)  # unreadable at startup: refuse to start, naming the setting
    return Config(
        model_root=Path(root),
        store=store,
        reload_token_value=env.get("HOTSWAP_RELOAD_TOKEN") or None,
        reload_token_file=token_file,
        admin_port=_int(env, "HOTSWAP_ADMIN_PORT", 8001),
        metrics_port=_int(env, "HOTSWAP_OPERATOR_METRICS_PORT", 9189),
        metrics_host=env.get("HOTSWAP_OPERATOR_METRICS_HOST", "0.0.0.0"),
        tick_seconds=_float(env, "HOTSWAP_OPERATOR_TICK_SECONDS", 1.0),
        reconcile_threads=_positive_int(env, "HOTSWAP_OPERATOR_RECONCILE_THREADS", 4),
        signal_timeout=_float(env, "HOTSWAP_OPERATOR_SIGNAL_TIMEOUT", 10.0),
        status_timeout=_float(env, "HOTSWAP_OPERATOR_STATUS_TIMEOUT", 3.0),
        prometheus_url=env.get("HOTSWAP_PROMETHEUS_URL") or None,
    )


def _check_store(store: str) -> None:
    try:
        buckets.StoreUri.parse(store)
    except InvalidName as exc:
        raise ConfigError(f"HOTSWAP_STORE: {exc}") from exc


def _read_token(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError as exc:
        raise ConfigError(
            f"HOTSWAP_RELOAD_TOKEN_FILE {path} cannot be read ({exc.strerror}): mount the "
            "reload token Secret there as a file (a volume, not an env var or subPath)"
        ) from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name) or default)
    except ValueError as exc:
        raise ConfigError(f"{name}={env[name]!r} is not an integer") from exc


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError as exc:
        raise ConfigError(f"{name}={env[name]!r} is not a number") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


# One reconcile's context


@dataclass(frozen=True)
class Context:
    apis: Apis
    config: Config
    metrics: Metrics
    namespace: str
    name: str
    watched: Watched | None = None  # kopf's pod and ModelVersion indexes (Canary passes)

    @property
    def watching(self) -> Watched:
        if self.watched is None:
            raise RuntimeError("a Canary pass reads kopf's indexes: handlers.run_canary")
        return self.watched

    @property
    def store(self) -> backends.Backend:
        """Where versions and routing live: the volume, or the bucket and a local cache."""
        return self.config.backend


def tick_after(config: Config, body: dict[str, Any]) -> float:
    """How long a Canary rests after a pass that left `body`: the tick while anything moves,
    SETTLED_TICKS ticks once it is settled (any change to the object wakes it at once either
    way; pods re-read routing.json themselves, so a pod that comes back is served meanwhile)."""
    settled = is_settled(statuses.parse_canary(body.get("status")), generation_of(body))
    return config.tick_seconds * (SETTLED_TICKS if settled else 1)


def is_settled(status: statuses.CanaryStatus, generation: int) -> bool:
    """Ready for the spec in force, no rollout, step or pause pending, every pod converged."""
    return (
        status.observed_generation == generation
        and conditions.is_true(status.conditions, conditions.READY)
        and status.canary_version is None
        and status.rollout is None
        and status.current_step is None
        and 0 < status.total_pods == status.converged_pods
    )


# The process


@dataclass(frozen=True)
class Written:
    """The body our last status write returned, awaited on the watch since `at`."""

    body: dict[str, Any]
    version: str  # its resourceVersion: opaque, compared for equality only
    at: float


@dataclass
class Runtime:
    """Shared by the event loop (wakers: set, awaited and cleared there only) and the pool's
    threads (one pass of a Canary at a time: `latest` is read and written per uid)."""

    config: Config
    apis: Apis
    metrics: Metrics
    wakers: dict[str, asyncio.Event] = field(default_factory=dict)
    latest: dict[str, Written] = field(default_factory=dict)  # uid -> our last write, awaited
    intents: dict[str, Intent] = field(default_factory=dict)  # uid -> what its last pass read
    selectors: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # uid -> pods
    watched: Watched | None = None  # set by the first Canary daemon (kopf hands it the indexes)
    clock: Callable[[], float] = time.monotonic
    pool: ThreadPoolExecutor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(
            max_workers=self.config.reconcile_threads, thread_name_prefix="reconcile"
        )

    def context(self, namespace: str, name: str) -> Context:
        return Context(self.apis, self.config, self.metrics, namespace, name, self.watched)

    def select(self, uid: str, namespace: str, labels: dict[str, str]) -> None:
        """The pods a Canary's selector matches: an event on one of them wakes it."""
        self.selectors[uid] = (namespace, labels)

    def wake_selecting(self, namespace: str, pod_labels: Mapping[str, str]) -> None:
        """Wake every Canary whose selector matches a pod that changed (became Ready, lost its
        IP, was deleted): it signals or recounts it now instead of at its next tick."""
        for uid, (where, labels) in list(self.selectors.items()):
            if where == namespace and selects(labels, pod_labels):
                self.wake(uid)

    def waker(self, uid: str) -> asyncio.Event:
        return self.wakers.setdefault(uid, asyncio.Event())

    def wake(self, uid: str) -> None:
        self.waker(uid).set()

    def passing(self, uid: str, body: Mapping[str, Any]) -> None:
        """A pass of the Canary starts from `body`: a watch event asking the same wakes nothing."""
        self.intents[uid] = intent_of(body)

    def wake_on_change(self, uid: str, body: Mapping[str, Any]) -> None:
        """Wake the Canary when a watch event asks something its last pass did not read: a
        new spec, an annotation (promote, abort), its deletion. An event that changed only
        its status (the echo of the daemon's own writes, two in a switch) wakes nothing: each
        woke a pass that asked every pod again for nothing. The tick still comes."""
        if self.intents.get(uid) != intent_of(body):
            self.wake(uid)

    async def rest(self, uid: str, seconds: float, *, until: Awaitable[Any]) -> None:
        """Until woken, `until` is done (the daemon's stop) or `seconds` pass; no thread is
        held meanwhile. A wake during the pass before ends the rest at once."""
        waker = self.waker(uid)
        waits = {asyncio.ensure_future(waker.wait()), asyncio.ensure_future(until)}
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        waker.clear()

    def forget(self, uid: str) -> None:
        self.wakers.pop(uid, None)
        self.intents.pop(uid, None)
        self.selectors.pop(uid, None)
        self.latest.pop(uid, None)

    def remember(self, uid: str, body: dict[str, Any]) -> None:
        """Await `body` (what our last pass wrote, or was handed) on the watch. The same version
        again (a pass that wrote nothing) keeps the wait that began with the write."""
        version = version_of(body)
        mine = self.latest.get(uid)
        if mine is None or mine.version != version:
            self.latest[uid] = Written(body, version, self.clock())

    def newest(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        """The live body, or the one our last status write returned while the watch has not
        delivered it yet (kopf's "consistency"). resourceVersion is opaque, so it is compared
        for equality only: the wait ends when the watch shows our version, when the spec moved
        on (metadata.generation, a sequence number, is higher), or after CONSISTENCY_SECONDS."""
        mine = self.latest.get(uid)
        if mine is None:
            return body
        caught_up = version_of(body) == mine.version
        respecified = generation_of(body) > generation_of(mine.body)
        if caught_up or respecified or self.clock() - mine.at >= CONSISTENCY_SECONDS:
            del self.latest[uid]
            return body
        return mine.body


Intent = tuple[Any, ...]


def intent_of(body: Mapping[str, Any]) -> Intent:
    """What a Canary asks apart from its status: metadata.generation (every spec change),
    its annotations and its deletion."""
    meta = body.get("metadata") or {}
    annotations = tuple(sorted((meta.get("annotations") or {}).items()))
    return generation_of(body), annotations, meta.get("deletionTimestamp")


def version_of(body: dict[str, Any]) -> str:
    return str(body.get("metadata", {}).get("resourceVersion") or "")


def generation_of(body: Mapping[str, Any]) -> int:
    generation = body.get("metadata", {}).get("generation")
    return generation if isinstance(generation, int) else 0
