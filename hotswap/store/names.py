"""Model names, version ids and digests: their patterns and checks."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from hotswap.store.errors import InvalidName

# Anchored with \A and \Z (`$` also matches before a final newline) and spelled with explicit
# ASCII classes (`\d` is any Unicode digit), so `.match` and `.fullmatch` agree.
MODEL_NAME = re.compile(r"\A[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\Z", re.ASCII)
VERSION_ID = re.compile(r"\A[0-9]{8}_[0-9]{6}_[0-9a-f]{8}\Z", re.ASCII)
DIGEST = re.compile(r"\Asha256:[0-9a-f]{64}\Z", re.ASCII)


def new_version_id(now: datetime | None = None) -> str:
    """A fresh id, `YYYYMMDD_HHMMSS_<8 hex>` in UTC: sorts by creation time."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:8]}"


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        raise InvalidName(
            f"model name {name!r} is not a DNS label: use 1-63 lowercase letters, digits "
            "and '-', starting and ending with a letter or digit"
        )
    return name


def check_version_id(version: str) -> str:
    if not isinstance(version, str) or not VERSION_ID.fullmatch(version):
        raise InvalidName(
            f"version id {version!r} is not of the form YYYYMMDD_HHMMSS_<8 hex>, "
            "e.g. 20261128_142501_3f9c1a2b"
        )
    return version


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise InvalidName(f"digest {digest!r} is not of the form sha256:<64 lowercase hex>")
    return digest


def resource_name(model: str, version: str) -> str:
    """The Kubernetes object name of a ModelVersion: `<model>-<version>`, underscores as '-'."""
    return f"{check_model_name(model)}-{check_version_id(version).replace('_', '-')}"
