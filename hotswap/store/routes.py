"""routing.json: which versions serve and how traffic splits between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotswap.store import files, names, versions
from hotswap.store.errors import IntegrityError
from hotswap.store.layout import ModelPaths
from hotswap.store.locking import model_lock

DEFAULT_STICKY_HEADER = "X-Request-Key"


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
    generation: int = 0

    def __post_init__(self) -> None:
        for field_name in ("weight", "mirror_percent"):
            value = getattr(self, field_name)
            if not isinstance(value, int) or not 0 <= value <= 100:
                raise ValueError(f"routing {field_name} must be an integer 0-100, got {value!r}")
        if self.canary is None and self.weight:
            raise ValueError("routing weight must be 0 when there is no canary")

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
        try:
            canary = body.get("canary")
            return cls(
                stable=Arm(**body["stable"]),
                canary=Arm(**canary) if canary else None,
                weight=int(body.get("weight", 0)),
                sticky_header=str(body.get("stickyHeader", DEFAULT_STICKY_HEADER)),
                mirror_percent=int(body.get("mirrorPercent", 0)),
                generation=int(body.get("generation", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IntegrityError(f"routing is malformed ({exc}): {body!r}") from exc


def read_routing(paths: ModelPaths) -> Routing | None:
    """The declared routing, or None when the model has never been routed."""
    try:
        body = files.read_json(paths.routing)
    except FileNotFoundError:
        return None
    return Routing.from_dict(body)


def write_routing(paths: ModelPaths, routing: Routing) -> None:
    """Write routing.json and rank its stable as the latest served, under the model lock."""
    with model_lock(paths):
        files.write_json(paths.routing, routing.to_dict())
        versions.record_served(paths, routing.stable.version)
