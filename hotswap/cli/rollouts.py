"""`hotswap status | deploy | promote | abort | rollback`: Canaries in the current kubeconfig's
cluster (also as `kubectl hotswap ...`). Deploy and rollback set spec.version; promote and abort
set the annotations the operator acts on."""

from __future__ import annotations

import argparse
import os
import uuid
from typing import Any

from kubernetes import client, config
from urllib3.exceptions import HTTPError

from hotswap import resources
from hotswap.cli import CommandError
from hotswap.store import names

CANARIES, MODEL_VERSIONS = resources.CANARIES, resources.MODEL_VERSIONS


def register(subparsers: Any) -> None:
    commands = {
        "status": ("show a Canary's rollout (or list them)", run_status, "?"),
        "deploy": ("point a Canary at a version (ModelVersion name or version id)", run_deploy, 1),
        "promote": ("continue a paused rollout", run_promote, 0),
        "abort": ("send all traffic back to stable", run_abort, 0),
        "rollback": ("switch back at once to the previous (or given) version", run_rollback, "?"),
    }
    for name, (help_text, func, versions) in commands.items():
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument("canary", nargs="?" if name == "status" else None, help="Canary name")
        if name in ("deploy", "rollback"):
            parser.add_argument("version", nargs=versions, help="ModelVersion name or version id")
        parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
        parser.set_defaults(func=func)
    operator = subparsers.add_parser("operator", help="run the operator (kopf, standalone)")
    actions = operator.add_subparsers(dest="operator_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="watch HOTSWAP_NAMESPACE (or all) until stopped")
    run.add_argument("-n", "--namespace", help="namespace to watch (default HOTSWAP_NAMESPACE)")
    run.add_argument("--verbose", action="store_true", help="kopf's verbose logging")
    run.set_defaults(func=run_operator)


def connect(args: argparse.Namespace) -> tuple[client.CustomObjectsApi, str]:
    path = (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0] or None
    try:
        _, current = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
        config.load_kube_config(config_file=path)  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError) as exc:
        raise CommandError(
            f"no cluster configured: {exc} (set KUBECONFIG or run `hotswap cluster up`)"
        ) from exc
    namespace = args.namespace or current.get("context", {}).get("namespace") or "default"
    return client.CustomObjectsApi(), namespace


def call(what: str, func: Any, *params: Any) -> Any:
    try:
        return func(resources.GROUP, resources.VERSION, *params)
    except client.ApiException as exc:
        if exc.status == 404:
            raise CommandError(f"{what} not found") from exc
        raise CommandError(f"{what}: the API server said {exc.status} {exc.reason}") from exc
    except HTTPError as exc:
        raise CommandError(f"cannot reach the cluster ({exc}): is it up?") from exc


def get_canary(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    what = f"Canary {name} in namespace {namespace}"
    return dict(call(what, api.get_namespaced_custom_object, namespace, CANARIES, name))


def resolve_version(api: Any, namespace: str, canary: dict[str, Any], version: str) -> str:
    """A ModelVersion name from a name or a version id; refuses one that does not exist."""
    model = canary["spec"]["model"]
    name = names.resource_name(model, version) if names.VERSION_ID.match(version) else version
    what = f"ModelVersion {name} (model {model}) in namespace {namespace}"
    call(what, api.get_namespaced_custom_object, namespace, MODEL_VERSIONS, name)
    return name


def set_version(args: argparse.Namespace, version: str | None) -> int:
    api, namespace = connect(args)
    canary = get_canary(api, namespace, args.canary)
    target = resolve_version(api, namespace, canary, version or previous_version(canary))
    patch = {"spec": {"version": target}}
    patch_canary(api, namespace, args.canary, patch)
    print(f"{args.canary}: spec.version = {target}")
    return 0


def patch_canary(api: Any, namespace: str, name: str, patch: dict[str, Any]) -> None:
    call(f"Canary {name}", api.patch_namespaced_custom_object, namespace, CANARIES, name, patch)


def previous_version(canary: dict[str, Any]) -> str:
    status = canary.get("status") or {}
    stable = status.get("stableVersion")
    for entry in status.get("history") or []:
        if entry.get("outcome") == "Promoted" and entry.get("version") != stable:
            return str(entry["version"])
        if entry.get("version") == stable and entry.get("fromVersion"):
            return str(entry["fromVersion"])
    raise CommandError(f"Canary {canary['metadata']['name']} has no earlier version: name one")


def annotate(args: argparse.Namespace, key: str) -> int:
    api, namespace = connect(args)
    get_canary(api, namespace, args.canary)
    patch = {"metadata": {"annotations": {key: uuid.uuid4().hex}}}
    patch_canary(api, namespace, args.canary, patch)
    print(f"{args.canary}: {key} set; `hotswap status {args.canary}` shows the effect")
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    return set_version(args, args.version[0])


def run_rollback(args: argparse.Namespace) -> int:
    return set_version(args, args.version)


def run_promote(args: argparse.Namespace) -> int:
    return annotate(args, resources.PROMOTE_ANNOTATION)


def run_abort(args: argparse.Namespace) -> int:
    return annotate(args, resources.ABORT_ANNOTATION)


def run_operator(args: argparse.Namespace) -> int:
    from hotswap_operator import __main__ as operator_main

    extra = [f"--namespace={args.namespace}"] if args.namespace else []
    return operator_main.main(extra + (["--verbose"] if args.verbose else []))


def run_status(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    if args.canary is None:
        found = call(
            f"Canaries in {namespace}", api.list_namespaced_custom_object, namespace, CANARIES
        )
        for item in found.get("items", []):
            print(summary_line(item))
        return 0
    print("\n".join(describe(get_canary(api, namespace, args.canary))))
    return 0


def summary_line(canary: dict[str, Any]) -> str:
    status = canary.get("status") or {}
    ready = next((c["status"] for c in status.get("conditions") or [] if c["type"] == "Ready"), "?")
    return (
        f"{canary['metadata']['name']}  model={canary['spec']['model']}  "
        f"stable={status.get('stableVersion')}  canary={status.get('canaryVersion')}  "
        f"weight={status.get('weight', 0)}%  ready={ready}"
    )


def describe(canary: dict[str, Any]) -> list[str]:
    status = canary.get("status") or {}
    lines = [summary_line(canary), f"  declared: {canary['spec']['version']}"]
    lines.append(f"  pods: {status.get('convergedPods', 0)}/{status.get('totalPods', 0)} converged")
    for pod in status.get("pods") or []:
        lines.append(
            f"    {pod['name']} {pod.get('ip')} {pod.get('versions')} {pod.get('error') or ''}"
        )
    for condition in status.get("conditions") or []:
        head = f"{condition['type']}={condition['status']} {condition.get('reason')}"
        lines.append(f"  {head}: {condition.get('message')}")
    for entry in (status.get("history") or [])[:5]:
        what = f"{entry['kind']} {entry['version']} {entry['outcome']} ({entry['reason']})"
        lines.append(f"  history: {entry['finishedAt']} {what}")
    return lines
