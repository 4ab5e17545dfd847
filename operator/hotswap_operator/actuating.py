"""Make the declared routing true: routing.json and `current` through the store, then signal
every ready pod that does not report it yet (POST /admin/reload)."""

from __future__ import annotations

import logging
from dataclasses import replace

from hotswap.store import routes, switching
from hotswap.store.routes import Routing
from hotswap_operator import assessing, faults, observing, signalling
from hotswap_operator.contexts import Context
from hotswap_operator.decisions import Plan
from hotswap_operator.observing import World
from hotswap_operator.specs import CanarySpec

log = logging.getLogger(__name__)


def actuate(ctx: Context, spec: CanarySpec, plan: Plan, *, world: World, generation: int) -> bool:
    """True when something was written or sent (another look is then worthwhile)."""
    desired = observing.desired_routing(world, spec, plan)
    if desired is None:
        log.warning("%s: no verified arm for %s yet; routing left as is", ctx.name, plan)
        return False
    wrote = write_routing(ctx, spec, desired, world=world, generation=generation)
    signalled = signal_pods(ctx, spec, world)
    return wrote or signalled


def write_routing(
    ctx: Context, spec: CanarySpec, desired: Routing, *, world: World, generation: int
) -> bool:
    paths = ctx.paths(spec.model)
    wrote = False
    if world.routing is None or not observing.same_content(world.routing, desired):
        known = max(world.routing.generation if world.routing else 0, generation)
        world.routing = replace(desired, generation=known + 1)
        routes.write_routing(paths, world.routing)
        faults.reach(faults.ROUTING_WRITTEN, generation=world.routing.generation)
        wrote = True
    if switching.read_current(paths) != world.routing.stable.version:
        switching.switch_current(paths, world.routing.stable.version)
        faults.reach(faults.CURRENT_SWITCHED, version=world.routing.stable.version)
        wrote = True
    return wrote


def signal_pods(ctx: Context, spec: CanarySpec, world: World) -> bool:
    routing = world.routing
    if routing is None:
        return False
    behind = [r.pod for r in world.replies if not assessing.reports(r, routing)]
    if not behind:
        return False
    body = routing.to_dict() | {"model": spec.model}
    replies = signalling.reload_pods(
        behind, body, token=ctx.config.reload_token, timeout=ctx.config.signal_timeout
    )
    by_name = {r.pod.name: r for r in replies}
    world.replies = [by_name.get(r.pod.name, r) for r in world.replies]
    return True
