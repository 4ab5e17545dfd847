"""versions.json: the registry of a model's published versions (safe with two writers)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from hotswap.store import files, names
from hotswap.store.errors import IntegrityError, VersionNotFound
from hotswap.store.layout import ModelPaths
from hotswap.store.locking import model_lock


@dataclass(frozen=True)
class VersionRecord:
    version: str
    created: str  # RFC 3339, UTC
    digest: str
    format: str = "joblib"
    metrics: dict[str, float] = field(default_factory=dict)  # headline offline metrics
    served: int = 0  # when it last became stable, in order: 0 never, higher is more recent

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> VersionRecord:
        try:
            return cls(
                version=names.check_version_id(body["version"]),
                created=str(body["created"]),
                digest=names.check_digest(body["digest"]),
                format=str(body.get("format", "joblib")),
                metrics={str(k): float(v) for k, v in body.get("metrics", {}).items()},
                served=_served(body.get("served", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(f"versions.json has a malformed entry {body!r}: {exc}") from exc


def list_versions(paths: ModelPaths) -> list[VersionRecord]:
    """Every registered version, in the order they were registered (oldest first).

    Ids sort by second only (two versions of one second differ in their random part), so
    the registry keeps registration order rather than sorting ids.
    """
    if not paths.registry.exists():
        return []
    return parse_registry(files.read_json(paths.registry))


def get_version(paths: ModelPaths, version: str) -> VersionRecord:
    for record in list_versions(paths):
        if record.version == version:
            return record
    raise VersionNotFound(f"model {paths.model!r} has no registered version {version!r}")


def register_version(paths: ModelPaths, record: VersionRecord) -> None:
    """Append (or replace in place) a record, under the model lock."""
    with model_lock(paths):
        _write(paths, with_record(list_versions(paths), record))


def record_served(paths: ModelPaths, version: str) -> None:
    """Note that `version` is now the stable (it ranks above every other in `served`).

    Retention keeps the most recently served versions, which an abort or rollback returns
    to. Takes the model lock; a version the registry lacks is left unrecorded.
    """
    with model_lock(paths):
        records = list_versions(paths)
        updated = with_served(records, version)
        if updated != records:
            _write(paths, updated)


def with_record(records: list[VersionRecord], record: VersionRecord) -> list[VersionRecord]:
    """The registry with `record` appended, or replacing its namesake (keeping its `served`).

    The registry's rules, shared by every store backend (the volume, a bucket).
    """
    index = next((i for i, r in enumerate(records) if r.version == record.version), None)
    if index is None:
        return [*records, record]
    merged = replace(record, served=record.served or records[index].served)
    return [merged if i == index else r for i, r in enumerate(records)]


def with_served(records: list[VersionRecord], version: str) -> list[VersionRecord]:
    """The registry with `version` ranked above every other as the latest stable.

    Unchanged when it already ranks first or the registry lacks it.
    """
    latest = max(records, key=lambda r: r.served, default=None)
    if latest is None or (latest.version == version and latest.served):
        return records
    rank = latest.served + 1
    return [replace(r, served=rank) if r.version == version else r for r in records]


def registry_body(model: str, records: list[VersionRecord]) -> dict[str, Any]:
    """versions.json's content."""
    return {"model": model, "versions": [asdict(r) for r in records]}


def parse_registry(body: Any) -> list[VersionRecord]:
    """versions.json's records, checked."""
    if not isinstance(body, dict) or not isinstance(body.get("versions", []), list):
        raise IntegrityError("versions.json must be an object whose 'versions' is a list")
    return [VersionRecord.from_dict(item) for item in body.get("versions", [])]


def recently_served(paths: ModelPaths, count: int) -> list[str]:
    """The `count` versions that were stable most recently, the latest first."""
    served = sorted((r for r in list_versions(paths) if r.served), key=lambda r: -r.served)
    return [r.version for r in served[:count]]


def unregister_version(paths: ModelPaths, version: str) -> None:
    with model_lock(paths):
        _write(paths, [r for r in list_versions(paths) if r.version != version])


def _served(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"served must be a non-negative integer, got {value!r}")
    return value


def _write(paths: ModelPaths, records: list[VersionRecord]) -> None:
    files.write_json(paths.registry, registry_body(paths.model, records))
