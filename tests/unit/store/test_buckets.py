"""The object-store backend against a real S3-compatible server (versitygw on loopback).

What a platform team relies on: a version in the bucket is whole or invisible, never changes,
and is loaded only after every byte matches the published digest; the registry and the routing
survive two writers; a bad bucket name or a hostile manifest is refused with a clear error.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotswap.local import objectstores
from hotswap.store import buckets, files, loading, manifests, names, remotes, routes, versions
from hotswap.store.errors import IntegrityError, InvalidName, VersionNotFound
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, Publish


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[objectstores.ObjectStoreServer]:
    with objectstores.object_store(tmp_path_factory.mktemp("s3") / "data") as running:
        yield running


@pytest.fixture
def bucket(
    server: objectstores.ObjectStoreServer, request: pytest.FixtureRequest
) -> buckets.Bucket:
    """A fresh prefix per test in one bucket (tests never see each other's objects)."""
    prefix = f"t/{request.node.name.replace('[', '-').replace(']', '')[:100]}"
    return server.bucket("models", prefix=prefix)


def record_of(published: Any) -> versions.VersionRecord:
    """The volume registry's record of a version published there (root/model/versions/id)."""
    return versions.get_version(
        ModelPaths(published.path.parents[2], published.model), published.version
    )


def publish_to(bucket: buckets.Bucket, published: Any) -> str:
    return remotes.publish_folder(bucket, published.path, record_of(published))


# ---- where a store lives ----------------------------------------------------------------


@pytest.mark.parametrize(
    "uri, bucket_name, prefix",
    [
        ("s3://models", "models", ""),
        ("s3://models/", "models", ""),
        ("s3://ml.models-prod/teams/search", "ml.models-prod", "teams/search"),
    ],
)
def test_a_store_uri_names_its_bucket_and_prefix(uri: str, bucket_name: str, prefix: str) -> None:
    parsed = buckets.StoreUri.parse(uri)
    assert (parsed.bucket, parsed.prefix) == (bucket_name, prefix)


@pytest.mark.parametrize(
    "uri, named",
    [
        ("/mnt/models", "s3://"),
        ("gs://models", "s3://"),
        ("s3://Models", "bucket name"),
        ("s3://a", "bucket name"),
        ("s3://models/../other", "segment '..'"),
        ("s3://models/a//b", "segment ''"),
        ("s3://models/a/./b", "segment '.'"),
        ("s3://models/a b", "segment 'a b'"),
    ],
)
def test_a_bad_store_uri_is_refused_naming_the_part(uri: str, named: str) -> None:
    with pytest.raises(InvalidName, match=named.replace(".", r"\.")):
        buckets.StoreUri.parse(uri)


# ---- publish and fetch ------------------------------------------------------------------


def test_a_published_version_is_fetched_verified_and_loads(
    bucket: buckets.Bucket, publish: Publish, tmp_path: Path
) -> None:
    published = publish()
    uri = publish_to(bucket, published)
    assert uri == f"s3://models/{bucket.uri.prefix}/{MODEL}/versions/{published.version}"
    assert [r.version for r in remotes.list_versions(bucket, MODEL)] == [published.version]

    cache = tmp_path / "cache"
    folder = remotes.fetch_version(
        bucket, cache, MODEL, published.version, expected_digest=published.digest
    )
    loaded = loading.load_version(cache, MODEL, published.version, expected_digest=published.digest)
    assert folder == cache / MODEL / "versions" / published.version
    assert loaded.digest == published.digest
    assert list(loaded.estimator.predict([[0.2], [2.8]])) == ["a", "b"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in published.path.iterdir()
    )


def test_the_manifest_goes_last_so_an_unfinished_upload_is_invisible(
    bucket: buckets.Bucket, publish: Publish, tmp_path: Path
) -> None:
    published = publish()
    written: list[str] = []
    real_write = bucket.write

    def write_until_manifest(key: str, data: bytes, **kwargs: Any) -> None:
        if key.endswith(manifests.MANIFEST):
            raise buckets.Unavailable("connection reset (fault injected before the manifest)")
        written.append(key.rsplit("/", 1)[1])
        real_write(key, data, **kwargs)

    bucket.write = write_until_manifest  # type: ignore[method-assign]
    with pytest.raises(buckets.Unavailable, match="before the manifest"):
        publish_to(bucket, published)
    bucket.write = real_write  # type: ignore[method-assign]

    assert "model.joblib" in written  # the fault landed after the files were uploaded
    assert remotes.list_versions(bucket, MODEL) == []
    with pytest.raises(VersionNotFound, match="upload did not finish"):
        remotes.fetch_version(
            bucket, tmp_path / "cache", MODEL, published.version, expected_digest=published.digest
        )
    assert not list((tmp_path / "cache" / MODEL / "versions").iterdir())
    publish_to(bucket, published)  # a retry completes it
    remotes.fetch_version(
        bucket, tmp_path / "cache", MODEL, published.version, expected_digest=published.digest
    )


def test_a_published_version_never_changes(bucket: buckets.Bucket, publish: Publish) -> None:
    published = publish()
    publish_to(bucket, published)
    # Re-publishing the same id with other bytes: its manifest exists, the write is refused.
    forged = manifests.parse_manifest(
        files.dump_json({"model": MODEL, "version": published.version, "files": {}, "schema": 1}),
        published.version,
    )
    key = buckets.version_key(bucket.uri, MODEL, published.version, manifests.MANIFEST)
    with pytest.raises(buckets.Conflict):
        bucket.write(key, forged.raw, over=None)
    blob = bucket.read(key)
    assert blob is not None and manifests.digest_of_bytes(blob.data) == published.digest


def test_a_corrupted_object_is_refused_and_nothing_is_cached(
    bucket: buckets.Bucket, publish: Publish, tmp_path: Path
) -> None:
    published = publish()
    publish_to(bucket, published)
    key = buckets.version_key(bucket.uri, MODEL, published.version, "model.joblib")
    original = bucket.read(key)
    assert original is not None
    bucket.write(key, original.data[:-1] + bytes([original.data[-1] ^ 1]))

    cache = tmp_path / "cache"
    with pytest.raises(IntegrityError, match=r"model\.joblib is corrupt or truncated"):
        remotes.fetch_version(
            bucket, cache, MODEL, published.version, expected_digest=published.digest
        )
    assert not list((cache / MODEL / "versions").iterdir())  # no folder, no staging left

    bucket.write(key, original.data)  # the twin: the same fetch of intact bytes succeeds
    remotes.fetch_version(bucket, cache, MODEL, published.version, expected_digest=published.digest)


def test_a_wrong_digest_is_refused_before_any_file_is_downloaded(
    bucket: buckets.Bucket, publish: Publish, tmp_path: Path
) -> None:
    published, other = publish(), publish()
    publish_to(bucket, published)
    streamed: list[str] = []
    real_stream = bucket.stream

    def counting(key: str) -> Any:
        streamed.append(key.rsplit("/", 1)[1])
        return real_stream(key)

    bucket.stream = counting  # type: ignore[method-assign]
    with pytest.raises(IntegrityError, match="digest mismatch"):
        remotes.fetch_version(
            bucket, tmp_path / "cache", MODEL, published.version, expected_digest=other.digest
        )
    assert streamed == [manifests.MANIFEST]


def test_a_manifest_listing_a_path_is_refused_and_nothing_is_written_outside(
    bucket: buckets.Bucket, tmp_path: Path
) -> None:
    version = names.new_version_id()
    evil = b"owned"
    body = {
        "model": MODEL,
        "version": version,
        "files": {"../../../escaped": hashlib.sha256(evil).hexdigest()},
        "schema": 1,
    }
    raw = files.dump_json(body)
    bucket.write(buckets.version_key(bucket.uri, MODEL, version, manifests.MANIFEST), raw)
    bucket.write(f"{bucket.uri.prefix}/{MODEL}/versions/{version}/../../../escaped", evil)

    cache = tmp_path / "deep" / "er" / "cache"
    with pytest.raises(IntegrityError, match="not a plain file name"):
        remotes.fetch_version(
            bucket, cache, MODEL, version, expected_digest=manifests.digest_of_bytes(raw)
        )
    assert not any(p.name == "escaped" for p in tmp_path.rglob("*"))


# ---- the registry and the routing ------------------------------------------------------


def test_two_writers_register_every_version(bucket: buckets.Bucket) -> None:
    conflicts = 0
    lock = threading.Lock()
    real_write = bucket.write

    def counting_write(key: str, data: bytes, **kwargs: Any) -> None:
        nonlocal conflicts
        try:
            real_write(key, data, **kwargs)
        except buckets.Conflict:
            with lock:
                conflicts += 1
            raise

    bucket.write = counting_write  # type: ignore[method-assign]
    barrier = threading.Barrier(2)
    ids = [[names.new_version_id() for _ in range(10)] for _ in range(2)]

    def writer(mine: list[str]) -> None:
        barrier.wait()
        for version in mine:
            record = versions.VersionRecord(
                version, "2026-12-02T00:00:00+00:00", "sha256:" + "0" * 64
            )
            remotes.register_version(bucket, MODEL, record)

    threads = [threading.Thread(target=writer, args=(mine,)) for mine in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    registered = [r.version for r in remotes.list_versions(bucket, MODEL)]
    assert sorted(registered) == sorted(ids[0] + ids[1])
    assert conflicts > 0, "the writers never overlapped: the test proved nothing"


def test_the_routing_round_trips_and_ranks_its_stable_as_served(
    bucket: buckets.Bucket, publish: Publish
) -> None:
    first, second = publish(), publish()
    publish_to(bucket, first)
    publish_to(bucket, second)
    assert remotes.read_routing(bucket, MODEL) is None

    routing = routes.Routing(
        stable=routes.Arm(second.version, second.digest),
        canary=routes.Arm(first.version, first.digest),
        weight=20,
        generation=3,
    )
    remotes.write_routing(bucket, MODEL, routing)
    assert remotes.read_routing(bucket, MODEL) == routing
    served = {r.version: r.served for r in remotes.list_versions(bucket, MODEL)}
    assert served[second.version] > served[first.version] == 0


def test_a_malformed_routing_object_is_refused_naming_the_field(bucket: buckets.Bucket) -> None:
    key = buckets.routing_key(bucket.uri, MODEL)
    bucket.write(key, json.dumps({"stable": {"version": "latest", "digest": "x"}}).encode())
    with pytest.raises(IntegrityError, match=r"routing stable\.version"):
        remotes.read_routing(bucket, MODEL)
    bucket.write(key, b"{not json")
    with pytest.raises(IntegrityError, match="not valid JSON"):
        remotes.read_routing(bucket, MODEL)


# ---- the local cache --------------------------------------------------------------------


def test_eviction_keeps_what_the_routing_needs(
    bucket: buckets.Bucket, publish: Publish, tmp_path: Path
) -> None:
    published = [publish() for _ in range(3)]
    cache = tmp_path / "cache"
    for item in published:
        publish_to(bucket, item)
        remotes.fetch_version(bucket, cache, MODEL, item.version, expected_digest=item.digest)
    keep = {published[0].version, published[2].version}
    assert remotes.evict(cache, MODEL, keep) == [published[1].version]
    assert {p.name for p in (cache / MODEL / "versions").iterdir()} == keep


def test_an_unreachable_store_is_a_clear_error(server: objectstores.ObjectStoreServer) -> None:
    from hotswap.local.replicas import free_port

    uri = buckets.StoreUri("models")
    closed = f"http://127.0.0.1:{free_port()}"
    env = server.environ | {"AWS_ENDPOINT_URL": closed}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bucket = buckets.connect(uri)
        with pytest.raises(buckets.Unavailable, match="GetObject s3://models/"):
            bucket.read("intent/routing.json")
