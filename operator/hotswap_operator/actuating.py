"""Make a declared routing true: routing.json and `current` through the store, then signal
every ready pod that does not report it yet (POST /admin/reload). Returns what it wrote and
sent; it changes nothing it was handed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hotswap.store.routes import Routing
from hotswap_operator import deciding, faults, reloading
from hotswap_operator.reloading import Reply
from hotswap_operator.runtimes import Context


@dataclass(frozen=True)
class Actuated:
    """What one actuation did: the routing in force after it (as written, or as found), whether
    it wrote routing.json or switched `current`, and the replies of the pods it signalled."""

    routing: Routing | None  # None: nothing declared yet and nothing to write
    wrote_routing: bool = False
    switched_current: bool = False
    signalled: list[Reply] = field(default_factory=list)

    @property
    def acted(self) -> bool:
        """Something was written or sent: another look is worthwhile."""
        return self.wrote_routing or self.switched_current or bool(self.signalled)


def actuate(
    ctx: Context,
    desired: Routing,
    *,
    model: str,
    found: Routing | None,
    replies: list[Reply],
    generation: int,
) -> Actuated:
    """`desired` (from `deciding.routing_of`, generation aside) made true on the volume and the
    pods, given the routing.json `found` and the pods' last `replies`; `generation` is the
    highest the Canary's status has seen."""
    routing, wrote = write_routing(ctx, desired, model=model, found=found, generation=generation)
    switched = switch_current(ctx, routing, model=model)
    signalled = signal_pods(ctx, routing, model=model, replies=replies)
    return Actuated(routing, wrote_routing=wrote, switched_current=switched, signalled=signalled)


def write_routing(
    ctx: Context, desired: Routing, *, model: str, found: Routing | None, generation: int
) -> tuple[Routing, bool]:
    """routing.json as `desired`, numbered past every generation seen; kept when it already
    declares the same. The routing in force, and whether it was written."""
    if found is not None and deciding.same_routing(found, desired):
        return found, False
    known = max(found.generation if found else 0, generation)
    routing = replace(desired, generation=known + 1)
    ctx.store.write_routing(model, routing)
    faults.reach(faults.ROUTING_WRITTEN, generation=routing.generation)
    return routing, True


def switch_current(ctx: Context, routing: Routing, *, model: str) -> bool:
    """`current` at the routing's stable version; whether it had to move."""
    if not ctx.store.switch_current(model, routing.stable.version):
        return False
    faults.reach(faults.CURRENT_SWITCHED, version=routing.stable.version)
    return True


def signal_pods(ctx: Context, routing: Routing, *, model: str, replies: list[Reply]) -> list[Reply]:
    """POST the routing to every pod whose last reply does not report it; their answers."""
    behind = [r.pod for r in replies if not reloading.reports(r, routing)]
    if not behind:
        return []
    body = routing.to_dict() | {"model": model}
    ctx.metrics.pod_requests.labels(model, "reload").inc(len(behind))
    return reloading.reload_pods(
        behind, body, token=ctx.config.reload_token, timeout=ctx.config.signal_timeout
    )
