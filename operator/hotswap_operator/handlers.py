"""The only module with kopf decorators: each handler parses what kopf hands over and calls a
plain function. Handlers return nothing; status is written by the operator itself.

ModelVersion: verified on create and on resume (retried while its files are missing): the
ModelVersion reconciler is `verifying`.
Canary: one async daemon per object reconciles whenever the object changes (woken by its watch
events) and at least every HOTSWAP_OPERATOR_TICK_SECONDS (timed pauses, pods, convergence):
the Canary reconciler is `reconciling`, its state machine `deciding`. Each pass borrows a thread
from the runtime's own pool (HOTSWAP_OPERATOR_RECONCILE_THREADS) and gives it back; between
passes the daemon holds no thread, so any number of Canaries share the pool and kopf's executor
stays free for the ModelVersion handlers (docs/scale.md: a sync daemon held one of kopf's 64
threads for the Canary's life, and the 65th Canary never reconciled).
Pods and ModelVersions: two indexes kopf keeps from its watches (ready pods by namespace,
ModelVersion bodies by namespace and name), which the passes read instead of asking the API
server; a change to a pod wakes the Canaries whose selector matches it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import kopf
from prometheus_client import start_http_server

from hotswap import resources
from hotswap_operator import cluster, metrics, reconciling, runtimes, verifying
from hotswap_operator.runtimes import Runtime

log = logging.getLogger(__name__)
MV = (resources.GROUP, resources.VERSION, resources.MODEL_VERSIONS)
CANARY = (resources.GROUP, resources.VERSION, resources.CANARIES)
ERROR_BACKOFF_SECONDS = 2.0
KOPF_THREADS = 16  # kopf's executor: the ModelVersion handlers (Canaries have their own pool)
PODS_INDEX = "hotswap_pods"  # kopf hands each index to every handler under its id
MODEL_VERSIONS_INDEX = "hotswap_model_versions"
INSTANT_EXIT_SECONDS = 2.0  # a deleted Canary's daemon ends within its pass; kopf waits that long


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """kopf's bookkeeping in annotations and our finalizer name; status is ours alone."""
    prefix = resources.GROUP
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=prefix, key="last-handled-configuration"
    )
    settings.persistence.finalizer = resources.FINALIZER
    settings.scanning.disabled = True  # no cluster-wide CRD/namespace watch: namespaced RBAC
    settings.posting.level = logging.WARNING
    # urllib3 logs every API request at DEBUG: with --verbose, one line per call, each taking
    # the log handler's lock, which 16 reconcile threads then queued on (docs/scale.md)
    logging.getLogger("urllib3").setLevel(logging.INFO)
    settings.execution.max_workers = KOPF_THREADS  # the ModelVersion handlers
    settings.background.instant_exit_timeout = INSTANT_EXIT_SECONDS
    config = runtimes.load_config()
    apis = cluster.connect(config.reconcile_threads + KOPF_THREADS + cluster.BACKGROUND_THREADS)
    memo.runtime = Runtime(config, apis, metrics.Metrics())
    start_http_server(config.metrics_port, addr=config.metrics_host)
    log.info(
        "metrics on %s:%d, model root %s, %d reconcile threads",
        config.metrics_host,
        config.metrics_port,
        config.model_root,
        config.reconcile_threads,
    )


@kopf.on.resume(*MV)
@kopf.on.create(*MV)
def verify_model_version(
    *, body: kopf.Body, namespace: str | None, name: str, memo: kopf.Memo, **_: Any
) -> None:
    """A version whose files are missing is retried (kopf's TemporaryError); the rest is final."""
    context = memo.runtime.context(namespace or "", name)
    try:
        verifying.reconcile_model_version(context, dict(body))
    except verifying.FilesMissing as exc:
        raise kopf.TemporaryError(str(exc), delay=verifying.RETRY_SECONDS) from exc


@kopf.index("pods", id=PODS_INDEX)
def index_pod(
    *, body: kopf.Body, namespace: str | None, memo: kopf.Memo, **_: Any
) -> dict[str, cluster.ListedPod]:
    """Ready pods by namespace (an unready one is dropped from the index: an empty result)."""
    listed = cluster.listed_pod(body, memo.runtime.config.admin_port)
    return {} if listed is None else {namespace or "": listed}


@kopf.index(*MV, id=MODEL_VERSIONS_INDEX)
def index_model_version(
    *, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Each ModelVersion's body, as of its last watch event."""
    return {(namespace or "", name): copy.deepcopy(dict(body))}


@kopf.on.event("pods")
async def wake_selecting(
    *, labels: kopf.Labels, namespace: str | None, memo: kopf.Memo, **_: Any
) -> None:
    memo.runtime.wake_selecting(namespace or "", labels)


@kopf.on.event(*CANARY)
async def wake_canary(*, uid: str, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.wake_on_change(uid, body)


@kopf.daemon(*CANARY, cancellation_timeout=15.0)
async def run_canary(
    *,
    stopped: kopf.DaemonStopped,
    body: kopf.Body,
    namespace: str | None,
    name: str,
    uid: str,
    memo: kopf.Memo,
    **indexes: Any,  # kopf hands every handler its indexes by name
) -> None:
    """A pass on a pool thread, then a rest until woken, stopped or the tick (slower once the
    Canary is settled; the back-off after a failed pass); it ends as soon as it is stopped (the
    Canary deleted, the operator exiting)."""
    runtime: Runtime = memo.runtime
    loop = asyncio.get_running_loop()
    if runtime.watched is None:  # the same two indexes for every daemon
        runtime.watched = cluster.Watched(
            runtime.apis,
            pods=indexes[PODS_INDEX],
            model_versions=indexes[MODEL_VERSIONS_INDEX],
        )
    context = runtime.context(namespace or "", name)
    settled = reconciling.Settled()  # what its pods answered when it last settled
    try:
        while not stopped:
            runtime.select(uid, namespace or "", selector_of(body))
            runtime.passing(uid, body)
            pause = await loop.run_in_executor(
                runtime.pool, reconcile_safely, runtime, context, uid, dict(body), settled
            )
            if not stopped:
                await runtime.rest(uid, pause, until=stopped.wait())
    finally:
        runtime.forget(uid)
        runtime.metrics.forget_canary(name)  # the object is gone (or the operator stops)


def selector_of(body: kopf.Body) -> dict[str, str]:
    found = ((body.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {str(k): str(v) for k, v in found.items()}


def reconcile_safely(
    runtime: Runtime,
    context: Any,
    uid: str,
    body: dict[str, Any],
    settled: reconciling.Settled | None = None,
) -> float:
    """One pass; the seconds to rest after it (runtimes.tick_after). A failed pass is logged and
    counted (hotswap_operator_reconcile_errors_total, which the HotswapOperatorReconcileFailing
    alert reads), the daemon never dies of it and retries after a back-off it awaits itself (no
    pool thread is blocked for it)."""
    try:
        written = reconciling.reconcile_canary(context, runtime.newest(uid, body), settled)
        runtime.remember(uid, written)
        return runtimes.tick_after(runtime.config, written)
    except Exception:
        runtime.metrics.reconcile_errors.labels("Canary").inc()
        log.exception("reconcile of Canary %s/%s failed; retrying", context.namespace, context.name)
        return ERROR_BACKOFF_SECONDS
