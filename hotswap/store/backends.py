"""Where a model's versions and routing live: the shared volume, or a bucket and a local cache.

One contract, two backends, the same rules (layout, names, manifests, versions, routes): the
operator and the pods call a `Backend` and never ask which one it is.

- `VolumeBackend`: everything on the model volume (a ReadWriteMany PVC); versions load in place.
- `BucketBackend`: the versions, registry and routing in S3-compatible object storage
  (remotes.py); each reader keeps a local cache laid out like the volume (an emptyDir), downloads
  a version there, verifies it, and loads it from there.

`open_backend("s3://bucket/prefix", cache=...)` or `open_backend("/models")` picks one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hotswap.store import (
    buckets,
    layout,
    loading,
    manifests,
    names,
    remotes,
    routes,
    switching,
    versions,
)
from hotswap.store.errors import IntegrityError, InvalidName, VersionNotFound
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Arm, Routing


class Backend(Protocol):
    @property
    def root(self) -> Path:
        """The local folder versions load from (the volume, or the cache)."""
        ...

    def artifact_path(self, model: str, version: str) -> str:
        """A version as a ModelVersion's spec.artifactPath names it."""
        ...

    def read_routing(self, model: str) -> Routing | None: ...

    def write_routing(self, model: str, routing: Routing) -> None:
        """Declare `routing` (and rank its stable as the latest served)."""
        ...

    def read_current(self, model: str) -> str | None:
        """The version that serves when no routing was declared (the volume's `current`)."""
        ...

    def switch_current(self, model: str, version: str) -> bool:
        """Point `current` at `version`; whether anything moved (a bucket has no `current`)."""
        ...

    def list_versions(self, model: str) -> list[versions.VersionRecord]: ...

    def register(self, model: str, record: versions.VersionRecord) -> None: ...

    def verify(self, artifact_path: str, digest: str) -> manifests.Manifest:
        """Check every file of a version against `digest` (VersionNotFound: not there yet)."""
        ...

    def check_intact(self, artifact_path: str, digest: str) -> None:
        """A verified version is still whole where it will be loaded from (manifest and listing;
        cheap enough for every reconcile)."""
        ...

    def materialize(self, model: str, arm: Arm) -> Path:
        """The local folder of a version (confined, as `loading.version_folder` returns it),
        ready for `loading.load_folder`."""
        ...

    def retain(self, model: str, keep: set[str]) -> list[str]:
        """Drop local copies of versions not in `keep`; the versions dropped."""
        ...


class VolumeBackend:
    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root

    def __repr__(self) -> str:
        return f"volume {self._root}"

    def artifact_path(self, model: str, version: str) -> str:
        return ModelPaths(self._root, model).relative(version)

    def read_routing(self, model: str) -> Routing | None:
        return routes.read_routing(ModelPaths(self._root, model))

    def write_routing(self, model: str, routing: Routing) -> None:
        routes.write_routing(ModelPaths(self._root, model), routing)

    def read_current(self, model: str) -> str | None:
        return switching.read_current(ModelPaths(self._root, model))

    def switch_current(self, model: str, version: str) -> bool:
        paths = ModelPaths(self._root, model)
        if switching.read_current(paths) == version:
            return False
        switching.switch_current(paths, version)
        return True

    def list_versions(self, model: str) -> list[versions.VersionRecord]:
        return versions.list_versions(ModelPaths(self._root, model))

    def register(self, model: str, record: versions.VersionRecord) -> None:
        versions.register_version(ModelPaths(self._root, model), record)

    def verify(self, artifact_path: str, digest: str) -> manifests.Manifest:
        folder = layout.confine(self._root, artifact_path)
        if not (folder / manifests.MANIFEST).is_file():
            raise VersionNotFound(
                f"{artifact_path}/{manifests.MANIFEST} is not on the volume at {self._root}"
            )
        return manifests.verify_folder(folder, digest)

    def check_intact(self, artifact_path: str, digest: str) -> None:
        manifests.verify_listing(layout.confine(self._root, artifact_path), digest)

    def materialize(self, model: str, arm: Arm) -> Path:
        return loading.version_folder(self._root, model, arm.version)

    def retain(self, model: str, keep: set[str]) -> list[str]:
        return []  # the volume is the store itself: retention.py prunes it, by policy


class BucketBackend:
    def __init__(self, bucket: buckets.Bucket, cache: Path) -> None:
        self.bucket = bucket
        self._cache = cache

    @property
    def root(self) -> Path:
        return self._cache

    def __repr__(self) -> str:
        return f"bucket {self.bucket.uri} (cache {self._cache})"

    def artifact_path(self, model: str, version: str) -> str:
        return self.bucket.uri.version_uri(model, version)

    def read_routing(self, model: str) -> Routing | None:
        return remotes.read_routing(self.bucket, model)

    def write_routing(self, model: str, routing: Routing) -> None:
        remotes.write_routing(self.bucket, model, routing)

    def read_current(self, model: str) -> str | None:
        return None  # a bucket has no `current` link: its routing names the stable

    def switch_current(self, model: str, version: str) -> bool:
        return False

    def list_versions(self, model: str) -> list[versions.VersionRecord]:
        return remotes.list_versions(self.bucket, model)

    def register(self, model: str, record: versions.VersionRecord) -> None:
        remotes.register_version(self.bucket, model, record)

    def verify(self, artifact_path: str, digest: str) -> manifests.Manifest:
        model, version = self.locate(artifact_path)
        folder = remotes.fetch_version(
            self.bucket, self._cache, model, version, expected_digest=digest
        )
        return manifests.verify_folder(folder, digest)

    def locate(self, artifact_path: str) -> tuple[str, str]:
        """(model, version) of an artifactPath in this bucket; refused if it names another."""
        base = f"{self.bucket.uri}/"
        model, sep, version = artifact_path.removeprefix(base).partition(f"/{layout.VERSIONS}/")
        try:
            if not artifact_path.startswith(base) or not sep:
                raise InvalidName("not below the store")
            names.check_model_name(model)
            names.check_version_id(version)
        except InvalidName as exc:
            raise IntegrityError(
                f"spec.artifactPath {artifact_path!r} is not a version in {self.bucket.uri} "
                f"({exc}): give {base}<model>/{layout.VERSIONS}/<version>"
            ) from exc
        return model, version

    def check_intact(self, artifact_path: str, digest: str) -> None:
        model, version = self.locate(artifact_path)
        self.materialize(model, Arm(version, digest))  # verified on download, then a listing

    def materialize(self, model: str, arm: Arm) -> Path:
        remotes.fetch_version(
            self.bucket, self._cache, model, arm.version, expected_digest=arm.digest
        )
        return loading.version_folder(self._cache, model, arm.version)

    def retain(self, model: str, keep: set[str]) -> list[str]:
        return remotes.evict(self._cache, model, keep)


def open_backend(store: str | Path, *, cache: Path | None = None) -> Backend:
    """A bucket for `s3://bucket[/prefix]` (a local `cache` is then required), else a volume."""
    if isinstance(store, str) and store.startswith(buckets.SCHEME):
        if cache is None:
            raise ValueError(f"store {store} is a bucket: give a local cache folder as well")
        return BucketBackend(buckets.connect(buckets.StoreUri.parse(store)), cache)
    return VolumeBackend(Path(store))
