"""Conditions as the Kubernetes API conventions describe them, set through one function, and
every condition type and reason the operator writes, in one place (Argo's conditions.go).

docs/api.md lists each reason with its meaning; a test keeps the two in step.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hotswap_operator.statuses import Condition

# Condition types
VERIFIED = "Verified"
READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"

# ModelVersion reasons
DIGEST_MATCHES = "DigestMatches"
ARTIFACT_MISSING = "ArtifactMissing"
DIGEST_MISMATCH = "DigestMismatch"
ARTIFACT_CORRUPT = "ArtifactCorrupt"
FORMAT_MISMATCH = "FormatMismatch"
INVALID_SPEC = "InvalidSpec"

# Canary reasons
MODEL_VERSION_MISSING = "ModelVersionMissing"
MODEL_VERSION_NOT_VERIFIED = "ModelVersionNotVerified"
MODEL_VERSION_REJECTED = "ModelVersionRejected"
NO_STABLE_VERSION = "NoStableVersion"
DEPLOYING = "Deploying"
ROLLING_BACK = "RollingBack"
STEPPING = "Stepping"
PAUSED = "Paused"
WAITING_FOR_PODS = "WaitingForPods"
PROMOTING = "Promoting"
ROLLOUT_COMPLETE = "RolloutComplete"
CONVERGED = "Converged"
NO_READY_PODS = "NoReadyPods"
ROLLOUT_IN_PROGRESS = "RolloutInProgress"
OFFLINE_GATE_FAILED = "OfflineGateFailed"
POD_LOAD_FAILED = "PodLoadFailed"
ABORTED_BY_USER = "AbortedByUser"
SPEC_REVERTED = "SpecReverted"
SUPERSEDED = "Superseded"
HEALTHY = "Healthy"
ANALYSING = "Analysing"
ANALYSIS_FAILED = "AnalysisFailed"
ANALYSIS_INCONCLUSIVE = "AnalysisInconclusive"
BANDIT_ADJUSTING = "BanditAdjusting"
BANDIT_REJECTED = "BanditRejected"

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"


def stamp(now: datetime) -> str:
    """RFC 3339 in UTC, second precision, as Kubernetes writes times."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def set_condition(
    conditions: list[Condition],
    kind: str,
    status: bool | str,
    *,
    reason: str,
    message: str,
    now: datetime,
    generation: int,
) -> list[Condition]:
    """A copy of `conditions` with `kind` set; lastTransitionTime moves only if status flips."""
    value = status if isinstance(status, str) else (TRUE if status else FALSE)
    old = find(conditions, kind)
    moved = old is None or old.status != value
    new = Condition(
        type=kind,
        status=value,
        reason=reason,
        message=message,
        last_transition_time=stamp(now) if moved or old is None else old.last_transition_time,
        observed_generation=generation,
    )
    if old == new:
        return conditions
    return [c for c in conditions if c.type != kind] + [new]


def find(conditions: list[Condition], kind: str) -> Condition | None:
    return next((c for c in conditions if c.type == kind), None)


def is_true(conditions: list[Condition], kind: str) -> bool:
    found = find(conditions, kind)
    return found is not None and found.status == TRUE
