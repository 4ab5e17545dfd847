"""Every call the operator makes to the Kubernetes API besides kopf's own watches: the clients,
reading, and writing (status as merge patches on the status subresource, and events). The
operator never writes spec.

Reading: the ready pods a Canary's selector matches and the ModelVersions it names come from
kopf's watches (`Watched`: the indexes `handlers` declares), so a pass
that finds nothing changed makes no API request; a ModelVersion is read from the API server
only when the watch's copy is not verified yet (our own verification may not have come back
on the watch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.client import ApiException

from hotswap import resources
from hotswap_operator.deciding import Event
from hotswap_operator.reloading import Pod

log = logging.getLogger(__name__)
T = TypeVar("T")
EVENT_THREADS = 2
EVENTS = ThreadPoolExecutor(max_workers=EVENT_THREADS, thread_name_prefix="event")
LATER_THREADS = 1  # one: status patches of one object land in the order they were asked
LATER = ThreadPoolExecutor(max_workers=LATER_THREADS, thread_name_prefix="status-later")
BACKGROUND_THREADS = EVENT_THREADS + LATER_THREADS
INDEX_READ_ATTEMPTS = 5  # reads of a kopf index the event loop changed meanwhile, then raise


@dataclass(frozen=True)
class Apis:
    core: Any  # client.CoreV1Api
    custom: Any  # client.CustomObjectsApi


@cache
def connect(connections: int) -> Apis:
    """In a pod the service account; elsewhere the current kubeconfig context. `connections`:
    how many requests may be in flight at once (every thread that calls the API), each kept
    on its own TLS connection: the client's default pool (5 per CPU, 10 here) discarded the
    connection of every call beyond it and opened a new one next time (docs/scale.md)."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    configuration.connection_pool_maxsize = connections
    api = client.ApiClient(configuration)
    return Apis(core=client.CoreV1Api(api), custom=client.CustomObjectsApi(api))


def get_model_version(apis: Apis, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        body = apis.custom.get_namespaced_custom_object(
            resources.GROUP, resources.VERSION, namespace, resources.MODEL_VERSIONS, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(body)


@dataclass(frozen=True)
class ListedPod:
    """A ready pod as the pod watch holds it: its labels (what selectors match) and address."""

    labels: dict[str, str]
    pod: Pod


def listed_pod(raw: Mapping[str, Any], default_port: int) -> ListedPod | None:
    """A pod the operator may signal: Ready, with an IP, not being deleted; else None."""
    meta, status = raw.get("metadata") or {}, raw.get("status") or {}
    if meta.get("deletionTimestamp") or not status.get("podIP"):
        return None
    conditions = status.get("conditions") or []
    if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
        return None
    raw_port = (meta.get("annotations") or {}).get(resources.ADMIN_PORT_ANNOTATION)
    port = int(raw_port) if raw_port and raw_port.isdigit() else default_port
    pod = Pod(name=meta["name"], ip=status["podIP"], admin_port=port)
    return ListedPod(labels=dict(meta.get("labels") or {}), pod=pod)


def selects(labels: Mapping[str, str], pod_labels: Mapping[str, str]) -> bool:
    """A matchLabels selector's verdict (an empty selector selects nothing here)."""
    return bool(labels) and labels.items() <= pod_labels.items()


@dataclass(frozen=True)
class Watched:
    """Pods and ModelVersions as kopf's watches hold them (its indexes, declared in `handlers`:
    ready pods by namespace, ModelVersion bodies by namespace and name), read from a pool
    thread as they are (`consistent`): a round trip through the event loop waited behind every
    watch event kopf had queued, up to seconds with 100 Canaries changing (docs/scale.md)."""

    apis: Apis
    pods: Mapping[str, Iterable[ListedPod]]
    model_versions: Mapping[tuple[str, str], Iterable[dict[str, Any]]]

    def ready_pods(self, namespace: str, labels: Mapping[str, str]) -> list[Pod]:
        listed = consistent(lambda: list(self.pods.get(namespace, ())))
        return sorted((e.pod for e in listed if selects(labels, e.labels)), key=lambda p: p.name)

    def model_version(
        self, namespace: str, name: str, *, fresh: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        """The watch's copy when `fresh` accepts it, else the API server's (None: no such
        object)."""
        key = (namespace, name)
        found = consistent(lambda: next(iter(list(self.model_versions.get(key, ()))), None))
        if found is not None and fresh(found):
            return found
        return get_model_version(self.apis, namespace, name)


def consistent(read: Callable[[], T]) -> T:
    """`read` of a kopf index from a thread other than the event loop, which alone changes it
    (kopf's indexers run there). A dict lookup is atomic under the GIL and `list()` copies a
    store's values in one C call; if the loop changed that store between the two, the copy
    raises (dictionary changed size during iteration) and is read again."""
    for _ in range(INDEX_READ_ATTEMPTS - 1):
        try:
            return read()
        except RuntimeError:
            continue
    return read()


def patch_status(
    apis: Apis, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> dict[str, Any]:
    """Merge-patch status; returns the object as stored."""
    found = apis.custom.patch_namespaced_custom_object_status(
        resources.GROUP, resources.VERSION, namespace, plural, name, {"status": status}
    )
    return dict(found)


def post_event(apis: Apis, body: dict[str, Any], event: Event) -> None:
    """A core/v1 Event on the object, stamped now and sent by one of EVENT_THREADS in the
    background (as kopf posts its own): a reconcile does not wait for it (4 POSTs per Canary
    in a rollout, each 0.1-0.2 s with 100 Canaries changing at once; docs/scale.md). Failing
    to post one is logged, never fatal."""
    meta = body["metadata"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    event_body = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": body.get("apiVersion", resources.API_VERSION),
            "kind": body.get("kind"),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
        },
        "type": event.type,
        "reason": event.reason,
        "message": event.message[:1024],
        "source": {"component": "hotswap-operator"},
        "reportingComponent": "hotswap.dev/operator",
        "reportingInstance": "hotswap-operator",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "eventTime": now,
        "action": event.reason,
        "count": 1,
    }
    what = f"post event {event.reason} on {meta['name']}"
    in_background(EVENTS, what, apis.core.create_namespaced_event, meta["namespace"], event_body)


def in_background(
    pool: ThreadPoolExecutor, what: str, call: Callable[..., Any], *args: Any
) -> None:
    """`call(*args)` on `pool`; a failure is logged there (nothing above that thread would)."""

    def run() -> None:
        try:
            call(*args)
        except ApiException as exc:
            log.warning("could not %s: %s", what, exc.reason)
        except Exception:
            log.exception("could not %s", what)

    pool.submit(run)


def patch_status_if_there(
    apis: Apis, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> None:
    """As `patch_status`, for an object that may be gone already (nothing to write then)."""
    try:
        patch_status(apis, plural, namespace, name, status)
    except ApiException as exc:
        if exc.status != 404:
            raise


def patch_status_later(
    apis: Apis, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> None:
    """As `patch_status_if_there`, in the background and in the order asked (one thread): for
    what follows from a status already written (a ModelVersion's `serving`), which a reconcile
    need not wait for. A failure is logged: the next transition writes that object again."""
    what = f"patch the status of {plural} {namespace}/{name}"
    in_background(LATER, what, patch_status_if_there, apis, plural, namespace, name, status)
