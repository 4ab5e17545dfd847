"""Rollouts on one machine, without a cluster: deploy, canary, weight, promote, abort, rollback.

Each is a change of the model's routing, made as the operator makes it: every version it names
is verified on the volume first (every file against its manifest, the manifest against the
registered digest), then routing.json is written (the store's `Routing`, with the CRD's bounds,
and a generation one above the last) and `current` switched to its stable, under the model lock.
Pods pick it up by their poll of routing.json, or at once when signalled (`signalling`).
Do not use this on a volume an operator manages: the operator would write its own routing back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from hotswap.store import layout, manifests, routes, switching, versions
from hotswap.store.errors import StoreError, VersionNotFound
from hotswap.store.layout import ModelPaths
from hotswap.store.locking import model_lock
from hotswap.store.routes import Arm, Routing


class RolloutError(Exception):
    """A change that cannot be made as asked; the message names the cause and the fix."""


@dataclass(frozen=True)
class Change:
    before: Routing | None
    after: Routing

    @property
    def changed(self) -> bool:
        return self.before != self.after


Plan = Callable[[ModelPaths, Routing | None], Routing]


def deploy(paths: ModelPaths, version: str | None = None) -> Change:
    """Serve `version` (default: the newest registered) alone; refused while a canary runs."""

    def plan(paths: ModelPaths, now: Routing | None) -> Routing:
        if now is not None and now.canary is not None:
            raise RolloutError(
                f"a canary of {now.canary.version} runs at {now.weight}%: "
                "`hotswap local promote` or `hotswap local abort` it first"
            )
        stable = verified_arm(paths, named(paths, version) or newest(paths))
        return Routing(stable, sticky_header=sticky_of(now))

    return change(paths, plan)


def start_canary(
    paths: ModelPaths,
    version: str | None = None,
    *,
    weight: int,
    sticky_header: str = routes.DEFAULT_STICKY_HEADER,
    mirror_percent: int = 0,
) -> Change:
    """Send `weight`% to `version` (default: the newest registered) beside the stable."""

    def plan(paths: ModelPaths, now: Routing | None) -> Routing:
        stable = require_stable(now)
        candidate = named(paths, version) or newest(paths)
        if candidate == stable.stable.version:
            raise RolloutError(
                f"{candidate} is the stable already: train a new version or name another one"
            )
        if stable.canary is not None and stable.canary.version != candidate:
            raise RolloutError(
                f"a canary of {stable.canary.version} runs already: promote or abort it first"
            )
        canary = verified_arm(paths, candidate)
        return replace(
            stable, canary=canary, weight=weight, sticky_header=sticky_header,
            mirror_percent=mirror_percent,
        )  # fmt: skip

    return change(paths, plan)


def set_weight(paths: ModelPaths, weight: int) -> Change:
    """Change the running canary's share of requests (0-100)."""
    return change(paths, lambda _, now: replace(require_canary(now)[0], weight=weight))


def promote(paths: ModelPaths) -> Change:
    """The canary becomes the stable and takes every request."""

    def plan(paths: ModelPaths, now: Routing | None) -> Routing:
        running, canary = require_canary(now)
        return Routing(verified_arm(paths, canary.version), sticky_header=running.sticky_header)

    return change(paths, plan)


def abort(paths: ModelPaths) -> Change:
    """Every request back to the stable; the canary is dropped."""
    return change(paths, lambda _, now: alone(require_canary(now)[0]))


def rollback(paths: ModelPaths, version: str | None = None) -> Change:
    """Serve the previous stable (or `version`, one that served before) alone, at once."""

    def plan(paths: ModelPaths, now: Routing | None) -> Routing:
        stable = require_stable(now)
        target = named(paths, version) or previous(paths, stable.stable.version)
        if versions.get_version(paths, target).served == 0:
            raise RolloutError(
                f"{target} never served: `hotswap local deploy {target}` serves it for the "
                "first time (a rollback returns to a version that served before)"
            )
        return Routing(verified_arm(paths, target), sticky_header=stable.sticky_header)

    return change(paths, plan)


def change(paths: ModelPaths, plan: Plan) -> Change:
    """Plan the new routing from the declared one and declare it, under the model lock."""
    try:
        with model_lock(paths):
            now = declared(paths)
            return declare(paths, plan(paths, now), before=now)
    except VersionNotFound as exc:
        raise RolloutError(f"{exc}: `hotswap versions --model {paths.model}` lists them") from exc


def declare(paths: ModelPaths, desired: Routing, *, before: Routing | None) -> Change:
    """routing.json (next generation), then `current`, as the operator writes them."""
    same = before is not None and replace(before, generation=0) == replace(desired, generation=0)
    if same and before is not None and switching.read_current(paths) == before.stable.version:
        return Change(before, before)
    generation = (before.generation if before else 0) + (0 if same else 1)
    routing = replace(desired, generation=generation)
    routes.write_routing(paths, routing)
    switching.switch_current(paths, routing.stable.version)
    return Change(before, routing)


def declared(paths: ModelPaths) -> Routing | None:
    """routing.json, else `current` alone (a volume switched by hand), else None."""
    routing = routes.read_routing(paths)
    if routing is not None:
        return routing
    version = switching.read_current(paths)
    return None if version is None else Routing(registered_arm(paths, version))


def verified_arm(paths: ModelPaths, version: str) -> Arm:
    """The version's arm, once its files match its manifest and the manifest its digest."""
    arm = registered_arm(paths, version)
    record = versions.get_version(paths, arm.version)
    try:
        found = manifests.verify_folder(paths.version(arm.version), arm.digest)
    except (StoreError, OSError) as exc:
        raise RolloutError(f"version {arm.version} is not intact on the volume: {exc}") from exc
    model_file = layout.MODEL_FILES.get(record.format)
    if model_file not in found.files:
        raise RolloutError(
            f"version {arm.version} is registered as {record.format} but holds no {model_file}"
        )
    return arm


def registered_arm(paths: ModelPaths, version: str) -> Arm:
    record = versions.get_version(paths, version)
    return Arm(record.version, record.digest)


def named(paths: ModelPaths, given: str | None) -> str | None:
    """A version id from an id or a ModelVersion name (`<model>-YYYYMMDD-HHMMSS-<hex>`)."""
    head = f"{paths.model}-"
    if given and given.startswith(head) and given.count("-") == paths.model.count("-") + 3:
        return given[len(head) :].replace("-", "_")
    return given


def newest(paths: ModelPaths) -> str:
    found = versions.list_versions(paths)
    if not found:
        raise RolloutError(
            f"model {paths.model} has no version yet: publish one with `hotswap train`"
        )
    return found[-1].version


def previous(paths: ModelPaths, stable: str) -> str:
    """The version that was stable before `stable`: the registry ranks them by when."""
    earlier = [v for v in versions.recently_served(paths, 3) if v != stable]
    if not earlier:
        raise RolloutError(
            f"no version of {paths.model} served before {stable}: name one to roll back to"
        )
    return earlier[0]


def require_stable(now: Routing | None) -> Routing:
    if now is None:
        raise RolloutError("nothing serves yet: `hotswap local deploy` a version first")
    return now


def require_canary(now: Routing | None) -> tuple[Routing, Arm]:
    running = require_stable(now)
    if running.canary is None:
        raise RolloutError(
            f"no canary runs (stable {running.stable.version} takes every request): "
            "start one with `hotswap local canary`"
        )
    return running, running.canary


def alone(routing: Routing) -> Routing:
    return Routing(routing.stable, sticky_header=routing.sticky_header)


def sticky_of(routing: Routing | None) -> str:
    return routing.sticky_header if routing else routes.DEFAULT_STICKY_HEADER
