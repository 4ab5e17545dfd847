"""The store contract over a bucket: publish, the registry, the routing, and fetching.

The rules stay where they are for the volume: a version is sealed and its manifest written by
publishing.py (in a local folder first), ids and digests are checked by names.py, the
registry's transforms are versions.py's, the routing is routes.Routing. What this module adds is
the order of writes in a bucket and the way back:

- publish: verify the sealed local folder, upload every file, then MANIFEST.json last and only
  where there is none (its presence is the commit point), then register the record;
- fetch: read the manifest, check its digest, download the files it lists into a staging folder
  of a local cache laid out like the volume, verify every hash, then rename it into place, so
  `loading.load_version` reads it as it reads the volume. A download that fails or does not
  verify leaves nothing behind and raises.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from hotswap.store import files, manifests, names, routes, versions
from hotswap.store.buckets import Bucket, registry_key, routing_key, version_key
from hotswap.store.errors import IntegrityError, VersionNotFound
from hotswap.store.layout import STAGING_PREFIX, ModelPaths

# A file of a version: a plain name (the manifest lists names, never paths).
FILE_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z", re.ASCII)


def publish_folder(bucket: Bucket, folder: Path, record: versions.VersionRecord) -> str:
    """Upload a sealed version folder (publishing.publish_version's) and register it.

    Returns the version's URI. The folder is verified against `record.digest` first; the
    manifest goes last and only where none exists, so a version in the bucket never changes.
    """
    manifest = manifests.verify_folder(folder, record.digest)
    model, version = manifest.model, names.check_version_id(record.version)
    for name in sorted(manifest.files):
        bucket.write(version_key(bucket.uri, model, version, name), (folder / name).read_bytes())
    bucket.write(
        version_key(bucket.uri, model, version, manifests.MANIFEST), manifest.raw, over=None
    )
    register_version(bucket, model, record)
    return bucket.uri.version_uri(model, version)


def list_models(bucket: Bucket) -> list[str]:
    """The models of the store that have a registry, by name."""
    base = f"{bucket.uri.prefix}/" if bucket.uri.prefix else ""
    found = [n for n in bucket.folders(base) if names.MODEL_NAME.fullmatch(n)]
    return sorted(n for n in found if bucket.read(registry_key(bucket.uri, n)) is not None)


def list_versions(bucket: Bucket, model: str) -> list[versions.VersionRecord]:
    blob = bucket.read(registry_key(bucket.uri, model))
    return [] if blob is None else versions.parse_registry(_json(blob.data, "versions.json"))


def register_version(bucket: Bucket, model: str, record: versions.VersionRecord) -> None:
    """Append (or replace) a record in the bucket's registry, conditionally."""

    def change(raw: bytes | None) -> bytes:
        records = [] if raw is None else versions.parse_registry(_json(raw, "versions.json"))
        return files.dump_json(versions.registry_body(model, versions.with_record(records, record)))

    bucket.update(registry_key(bucket.uri, model), change)


def read_routing(bucket: Bucket, model: str) -> routes.Routing | None:
    blob = bucket.read(routing_key(bucket.uri, model))
    if blob is None:
        return None
    try:
        return routes.Routing.from_dict(_json(blob.data, "routing.json"))
    except IntegrityError as exc:
        raise IntegrityError(f"routing.json of {bucket.uri}/{model} is malformed: {exc}") from exc


def write_routing(bucket: Bucket, model: str, routing: routes.Routing) -> None:
    """Replace routing.json whole, then rank its stable as the latest served."""
    bucket.write(routing_key(bucket.uri, model), files.dump_json(routing.to_dict()))

    def change(raw: bytes | None) -> bytes | None:
        records = [] if raw is None else versions.parse_registry(_json(raw, "versions.json"))
        updated = versions.with_served(records, routing.stable.version)
        return (
            None if updated == records else files.dump_json(versions.registry_body(model, updated))
        )

    bucket.update(registry_key(bucket.uri, model), change)


def fetch_version(
    bucket: Bucket, cache: Path, model: str, version: str, *, expected_digest: str
) -> Path:
    """The version's folder in the local cache, downloaded and verified when missing.

    A folder already in the cache is checked against the digest (manifest and listing; the
    loader hashes what it loads). Nothing unverified is ever left under `versions/`.
    """
    paths = ModelPaths(cache, model)
    target = paths.version(version)
    if target.is_dir():
        manifests.verify_listing(target, expected_digest)
        return target
    paths.versions.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{version}-", dir=paths.versions))
    try:
        _download(bucket, stage, model, version, expected_digest)
        manifests.verify_folder(stage, expected_digest)
        for path in stage.iterdir():
            path.chmod(0o444)
        files.fsync_dir(stage)
        stage.rename(target)
    except FileExistsError:  # another fetch of the same version finished first
        shutil.rmtree(stage, ignore_errors=True)
        manifests.verify_listing(target, expected_digest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    files.fsync_dir(paths.versions)
    return target


def evict(cache: Path, model: str, keep: set[str]) -> list[str]:
    """Remove the cached versions of `model` not in `keep` (and stray staging folders)."""
    paths = ModelPaths(cache, model)
    removed = []
    for entry in sorted(paths.versions.iterdir()) if paths.versions.is_dir() else []:
        if entry.name in keep or entry.is_symlink():
            continue
        _make_writable(entry)
        shutil.rmtree(entry)
        removed.append(entry.name)
    return removed


def _download(bucket: Bucket, stage: Path, model: str, version: str, digest: str) -> None:
    try:
        raw = bucket.stream(version_key(bucket.uri, model, version, manifests.MANIFEST)).read()
    except VersionNotFound as exc:
        raise VersionNotFound(
            f"{bucket.uri.version_uri(model, version)} has no {manifests.MANIFEST}: "
            "it was never published, or its upload did not finish"
        ) from exc
    if manifests.digest_of_bytes(raw) != names.check_digest(digest):
        raise IntegrityError(
            f"digest mismatch for {bucket.uri.version_uri(model, version)}: expected {digest}, "
            f"its manifest hashes to {manifests.digest_of_bytes(raw)}"
        )
    manifest = manifests.parse_manifest(raw, version)
    if (manifest.model, manifest.version) != (model, version):
        raise IntegrityError(
            f"{bucket.uri.version_uri(model, version)} holds the manifest of "
            f"{manifest.model}/{manifest.version}"
        )
    for name in manifest.files:
        _check_file_name(name, version)
        with open(stage / name, "xb") as out:
            shutil.copyfileobj(bucket.stream(version_key(bucket.uri, model, version, name)), out)
    files.write_bytes(stage / manifests.MANIFEST, raw)


def _check_file_name(name: str, version: str) -> None:
    if not FILE_NAME.fullmatch(name) or name == manifests.MANIFEST:
        raise IntegrityError(
            f"the manifest of {version} lists {name[:60]!r}, not a plain file name: refusing it"
        )


def _make_writable(folder: Path) -> None:
    folder.chmod(0o755)
    for path in folder.iterdir():
        if not path.is_symlink():
            path.chmod(0o644)


def _json(raw: bytes, name: str) -> object:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise IntegrityError(f"{name} in the bucket is not valid JSON: {exc}") from exc
