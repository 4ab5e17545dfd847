"""`hotswap local deploy | canary | weight | promote | abort | rollback | status`: rollouts on the
model volume of one machine, no cluster needed (what the Canary commands do in a cluster).

Each change is verified and written as the operator writes it (`hotswap.local.declaring`); pods
named with `--admin host:port` (or $HOTSWAP_ADMIN, comma-separated) are signalled at once with
the reload token ($HOTSWAP_RELOAD_TOKEN or --token-file), others pick it up by their poll of
routing.json (every 2 s by default). Exit code 1 when a signalled pod does not report it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from hotswap.cli import CommandError, options
from hotswap.cli.training import check_model_arg, list_models
from hotswap.local import declaring
from hotswap.store import routes, signalling, switching
from hotswap.store.errors import StoreError
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Routing
from hotswap.store.signalling import Address, Reply

ADMIN_ENV, TOKEN_ENV = "HOTSWAP_ADMIN", "HOTSWAP_RELOAD_TOKEN"
POLL_NOTE = "no --admin given: pods pick it up by their poll of routing.json (2 s by default)"
WAIT_EVERY = 0.2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local", help="deploy, canary, promote, roll back on this machine's volume (no cluster)"
    )
    actions = parser.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    deploy = add(actions, "deploy", "serve a version alone (default: the newest)", run_deploy)
    deploy.add_argument("version", nargs="?", help="version id or ModelVersion name")
    canary = add(actions, "canary", "start a canary of a version (default: the newest)", run_canary)
    canary.add_argument("version", nargs="?", help="version id or ModelVersion name")
    canary.add_argument("--weight", type=int, required=True, help="percent it answers (0-100)")
    canary.add_argument(
        "--sticky-header",
        default=routes.DEFAULT_STICKY_HEADER,
        help="request header whose value keeps a client on one arm",
    )
    canary.add_argument(
        "--mirror",
        type=int,
        default=0,
        help="percent of stable requests also predicted by the canary, unseen",
    )
    weight = add(actions, "weight", "change the canary's weight", run_weight)
    weight.add_argument("weight", type=int, help="percent the canary answers (0-100)")
    add(actions, "promote", "the canary becomes the stable", run_promote)
    add(actions, "abort", "every request back to the stable", run_abort)
    back = add(actions, "rollback", "serve the previous (or given) stable at once", run_rollback)
    back.add_argument("version", nargs="?", help="a version that served before")
    status = add(actions, "status", "what is declared and what each pod serves", run_status)
    status.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait until every --admin pod serves the declared routing",
    )


def add(actions: Any, name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
    options.add_root_argument(parser)
    parser.add_argument("--model", help="model name (default: the only model under --root)")
    parser.add_argument(
        "--admin",
        action="append",
        metavar="HOST:PORT",
        help=f"a pod's admin address, repeatable (default: ${ADMIN_ENV})",
    )
    parser.add_argument("--token-file", type=Path, help=f"reload token (default: ${TOKEN_ENV})")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per pod signal")
    parser.set_defaults(func=func)
    return parser


def run_deploy(args: argparse.Namespace) -> int:
    return apply(args, lambda paths: declaring.deploy(paths, args.version))


def run_canary(args: argparse.Namespace) -> int:
    return apply(
        args,
        lambda paths: declaring.start_canary(
            paths,
            args.version,
            weight=args.weight,
            sticky_header=args.sticky_header,
            mirror_percent=args.mirror,
        ),
    )


def run_weight(args: argparse.Namespace) -> int:
    return apply(args, lambda paths: declaring.set_weight(paths, args.weight))


def run_promote(args: argparse.Namespace) -> int:
    return apply(args, declaring.promote)


def run_abort(args: argparse.Namespace) -> int:
    return apply(args, declaring.abort)


def run_rollback(args: argparse.Namespace) -> int:
    return apply(args, lambda paths: declaring.rollback(paths, args.version))


def apply(args: argparse.Namespace, make: Any) -> int:
    paths = model_paths(args)
    addresses = admin_addresses(args)
    token = reload_token(args) if addresses else ""
    try:
        done: declaring.Change = make(paths)
    except (declaring.RolloutError, StoreError) as exc:
        raise CommandError(str(exc)) from exc
    verb = "declared" if done.changed else "unchanged,"
    print(f"{paths.model}: {verb} {describe(done.after)}")
    if not addresses:
        print(POLL_NOTE)
        return 0
    replies = signalling.reload_pods(
        addresses, done.after, model=paths.model, token=token, timeout=args.timeout
    )
    return show_pods(replies, done.after)


def run_status(args: argparse.Namespace) -> int:
    paths = model_paths(args)
    addresses = admin_addresses(args)
    token = reload_token(args) if addresses else ""
    try:
        routing, current = routes.read_routing(paths), switching.read_current(paths)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    if routing is None:
        print(
            f"{paths.model}: nothing declared (current: {current or '-'}); "
            "`hotswap local deploy` serves a version"
        )
        return 1 if addresses else 0
    print(f"{paths.model}: {describe(routing)}; current -> {current or '-'}")
    if not addresses:
        return 0
    replies = wait_for(addresses, routing, token=token, seconds=args.wait, timeout=args.timeout)
    return show_pods(replies, routing)


def wait_for(
    addresses: list[Address], routing: Routing, *, token: str, seconds: float, timeout: float
) -> list[Reply]:
    """The pods' replies once all report `routing`, or the last ones after `seconds`."""
    deadline = time.monotonic() + max(seconds, 0.0)
    while True:
        replies = signalling.read_pods(addresses, token=token, timeout=min(timeout, 5.0))
        if all(r.reports(routing) for r in replies) or time.monotonic() >= deadline:
            return replies
        time.sleep(WAIT_EVERY)


def show_pods(replies: list[Reply], routing: Routing) -> int:
    for reply in replies:
        print(f"  {reply.address}: {pod_line(reply, routing)}")
    behind = [r for r in replies if not r.reports(routing)]
    if behind:
        print(
            f"{len(behind)} of {len(replies)} pods do not serve generation {routing.generation} "
            "yet: they keep what they served and retry by their poll"
        )
    return 1 if behind else 0


def pod_line(reply: Reply, routing: Routing) -> str:
    report = reply.report
    if report is None:
        return f"no report ({reply.error or 'a malformed reply'})"
    serves = describe(report.routing) if report.routing else "nothing yet"
    failure = report.failure_at(routing.generation)
    state = "serves it" if report.reports(routing) else "behind"
    return f"{state}: {serves}" + (f"; failed to load {failure.describe()}" if failure else "")


def describe(routing: Routing) -> str:
    text = f"generation {routing.generation}: stable {routing.stable.version}"
    if routing.canary is None:
        return text
    extra = f", mirror {routing.mirror_percent}%" if routing.mirror_percent else ""
    return (
        f"{text}, canary {routing.canary.version} at {routing.weight}% "
        f"(sticky by {routing.sticky_header}{extra})"
    )


def model_paths(args: argparse.Namespace) -> ModelPaths:
    if args.model:
        return ModelPaths(args.root, check_model_arg(args.model))
    found = list_models(args.root)
    if len(found) != 1:
        which = f"models {', '.join(found)}" if found else "no model"
        raise CommandError(f"{args.root} holds {which}: name one with --model")
    return ModelPaths(args.root, found[0])


def admin_addresses(args: argparse.Namespace) -> list[Address]:
    given = args.admin or [a for a in os.environ.get(ADMIN_ENV, "").split(",") if a.strip()]
    try:
        return [Address.parse(text) for text in given]
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def reload_token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        try:
            return str(args.token_file.read_text().strip())
        except OSError as exc:
            raise CommandError(f"cannot read --token-file {args.token_file}: {exc}") from exc
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise CommandError(
            f"--admin needs the pods' reload token: set ${TOKEN_ENV} or give --token-file"
        )
    return token
