"""versions.json: the registry of a model's published versions (safe with two writers)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> VersionRecord:
        try:
            return cls(
                version=names.check_version_id(body["version"]),
                created=str(body["created"]),
                digest=names.check_digest(body["digest"]),
                format=str(body.get("format", "joblib")),
                metrics={str(k): float(v) for k, v in body.get("metrics", {}).items()},
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
    body = files.read_json(paths.registry)
    return [VersionRecord.from_dict(item) for item in body.get("versions", [])]


def get_version(paths: ModelPaths, version: str) -> VersionRecord:
    for record in list_versions(paths):
        if record.version == version:
            return record
    raise VersionNotFound(f"model {paths.model!r} has no registered version {version!r}")


def register_version(paths: ModelPaths, record: VersionRecord) -> None:
    """Append (or replace in place) a record, under the model lock."""
    with model_lock(paths):
        records = list_versions(paths)
        index = next((i for i, r in enumerate(records) if r.version == record.version), None)
        if index is None:
            records.append(record)
        else:
            records[index] = record
        _write(paths, records)


def unregister_version(paths: ModelPaths, version: str) -> None:
    with model_lock(paths):
        _write(paths, [r for r in list_versions(paths) if r.version != version])


def _write(paths: ModelPaths, records: list[VersionRecord]) -> None:
    files.write_json(
        paths.registry, {"model": paths.model, "versions": [asdict(r) for r in records]}
    )
