"""routing.json: which versions serve and how traffic splits between them.

`Routing` is both the file and the body of `POST /admin/reload`, so every field is checked
strictly, with the bounds of the Canary CRD (crds/canaries.yaml): nothing is coerced (33.3,
"50" and true are not weights), and every error is an `IntegrityError` naming the field and
the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hotswap.store import files, names, versions
from hotswap.store.errors import IntegrityError, InvalidName
from hotswap.store.layout import ModelPaths
from hotswap.store.locking import model_lock

DEFAULT_STICKY_HEADER = "X-Request-Key"
STICKY_HEADER_MAX = 64
STICKY_HEADER_PATTERN = "^[A-Za-z0-9][A-Za-z0-9-]*$"  # the CRD's, for JSON Schema and messages
STICKY_HEADER = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9-]*\Z", re.ASCII)
# Headers that carry credentials or the client's identity (a sticky key would leak them through
# the arm a caller sees, or let a caller pick its arm by forging them), or frame the request.
# The Canary CRD carries the same list (a CEL rule on spec.stickyHeader).
DENIED_STICKY_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "host",
        "forwarded",
        "x-forwarded-for",
        "x-real-ip",
        "content-length",
        "transfer-encoding",
        "connection",
    }
)
MAX_GENERATION = 2**63 - 1  # int64, as metadata.generation and the CRD's integer fields
ARM_FIELDS = ("version", "digest")


@dataclass(frozen=True)
class Arm:
    version: str
    digest: str

    def __post_init__(self) -> None:
        names.check_version_id(self.version)
        names.check_digest(self.digest)

    def to_dict(self) -> dict[str, str]:
        return {"version": self.version, "digest": self.digest}


@dataclass(frozen=True)
class Routing:
    """The declared traffic split of one model; `generation` rises with every change."""

    stable: Arm
    canary: Arm | None = None
    weight: int = 0  # percent of requests the canary answers, 0-100
    sticky_header: str = DEFAULT_STICKY_HEADER
    mirror_percent: int = 0  # percent of stable requests also predicted by the canary, unseen
    generation: int = 0  # 0 to 2^63-1

    def __post_init__(self) -> None:
        check_percent("weight", self.weight)
        check_percent("mirrorPercent", self.mirror_percent)
        check_generation(self.generation)
        check_sticky_header(self.sticky_header)
        if self.canary is None and self.weight:
            raise IntegrityError(
                f"routing weight must be 0 when there is no canary, got {self.weight}: "
                "add a canary or set weight 0"
            )

    @property
    def versions(self) -> tuple[str, ...]:
        return (self.stable.version,) + ((self.canary.version,) if self.canary else ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "stable": self.stable.to_dict(),
            "canary": self.canary.to_dict() if self.canary else None,
            "weight": self.weight,
            "stickyHeader": self.sticky_header,
            "mirrorPercent": self.mirror_percent,
            "generation": self.generation,
        }

    @classmethod
    def from_dict(cls, body: Any) -> Routing:
        """A routing from its JSON form; keys other than the routing's own are ignored."""
        if not isinstance(body, dict):
            raise IntegrityError(f"routing must be a JSON object, got {shown(body)}")
        if "stable" not in body:
            raise IntegrityError("routing stable is missing: give {version, digest}")
        canary = body.get("canary")
        return cls(
            stable=arm_from(body["stable"], "stable"),
            canary=None if canary is None else arm_from(canary, "canary"),
            weight=body.get("weight", 0),
            sticky_header=body.get("stickyHeader", DEFAULT_STICKY_HEADER),
            mirror_percent=body.get("mirrorPercent", 0),
            generation=body.get("generation", 0),
        )


def arm_from(value: Any, field: str) -> Arm:
    if not isinstance(value, dict):
        raise IntegrityError(
            f"routing {field} must be an object {{version, digest}}, got {shown(value)}"
        )
    unknown = sorted(str(key)[:40] for key in value if key not in ARM_FIELDS)
    if unknown:
        raise IntegrityError(
            f"routing {field} has unknown field(s) {unknown}: an arm is {{version, digest}}"
        )
    checks = {"version": names.check_version_id, "digest": names.check_digest}
    for key, check in checks.items():
        given = value.get(key)
        if given is None:
            raise IntegrityError(f"routing {field}.{key} is missing: give the arm's {key}")
        if not isinstance(given, str):
            raise IntegrityError(f"routing {field}.{key} must be a string, got {shown(given)}")
        try:
            check(given[:200])
        except InvalidName as exc:
            raise IntegrityError(f"routing {field}.{key}: {exc}") from exc
    return Arm(value["version"], value["digest"])


def check_percent(field: str, value: object) -> None:
    if type(value) is not int or not 0 <= value <= 100:
        raise IntegrityError(
            f"routing {field} must be an integer 0-100 (a percent), got {shown(value)}"
        )


def check_generation(value: object) -> None:
    if type(value) is not int or not 0 <= value <= MAX_GENERATION:
        raise IntegrityError(
            f"routing generation must be an integer 0-{MAX_GENERATION}, got {shown(value)}: "
            "the operator writes it; to start over, delete routing.json and let it write one"
        )


def check_sticky_header(value: object) -> None:
    if (
        not isinstance(value, str)
        or len(value) > STICKY_HEADER_MAX
        or not STICKY_HEADER.fullmatch(value)
    ):
        raise IntegrityError(
            f"routing stickyHeader must be a header name of 1-{STICKY_HEADER_MAX} letters, "
            f"digits and '-' ({STICKY_HEADER_PATTERN}), got {shown(value)}"
        )
    if value.lower() in DENIED_STICKY_HEADERS:
        raise IntegrityError(
            f"routing stickyHeader {value!r} is not allowed: it carries credentials, the "
            f"client's identity or framing; use a header of your own, e.g. {DEFAULT_STICKY_HEADER}"
        )


def shown(value: object) -> str:
    """A value as an error message shows it: its repr, clipped."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}... ({len(text)} characters)"


def read_routing(paths: ModelPaths) -> Routing | None:
    """The declared routing, or None when the model has never been routed."""
    try:
        body = files.read_json(paths.routing)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise IntegrityError(f"{paths.routing} is not valid JSON: {exc}") from exc
    try:
        return Routing.from_dict(body)
    except IntegrityError as exc:
        raise IntegrityError(f"{paths.routing} is malformed: {exc}") from exc


def write_routing(paths: ModelPaths, routing: Routing) -> None:
    """Write routing.json and rank its stable as the latest served, under the model lock."""
    with model_lock(paths):
        files.write_json(paths.routing, routing.to_dict())
        versions.record_served(paths, routing.stable.version)
