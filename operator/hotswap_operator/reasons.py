"""Condition types and every reason the operator writes, in one place (Argo's conditions.go).

docs/api.md lists each with its meaning; a test keeps the two in step.
"""

from __future__ import annotations

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
