"""One contract, two backends: every check runs against the volume and against a real bucket.

The operator and the pods talk to `backends.Backend` only; these are the promises they rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotswap.local import objectstores
from hotswap.store import backends, buckets, loading, publishing, remotes, versions
from hotswap.store.errors import IntegrityError, VersionNotFound
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Arm, Routing
from tests.unit.store.conftest import MODEL, Publish

Published = publishing.Published
Place = Callable[[Published], None]  # makes a version published on the test volume available


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[objectstores.ObjectStoreServer]:
    with objectstores.object_store(tmp_path_factory.mktemp("s3") / "data") as running:
        yield running


@pytest.fixture(params=["volume", "bucket"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(
    kind: str,
    root: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    server: objectstores.ObjectStoreServer,
) -> backends.Backend:
    if kind == "volume":
        return backends.VolumeBackend(root)
    bucket = server.bucket("backends", prefix=request.node.name.replace("[", "-").strip("]"))
    return backends.BucketBackend(bucket, tmp_path / "cache")


@pytest.fixture
def place(backend: backends.Backend, root: Path) -> Place:
    """The volume backend reads the test volume itself; the bucket gets an upload of it."""

    def _place(published: Published) -> None:
        if isinstance(backend, backends.BucketBackend):
            record = versions.get_version(ModelPaths(root, MODEL), published.version)
            remotes.publish_folder(backend.bucket, published.path, record)

    return _place


def routing_of(stable: Published, canary: Published | None = None, weight: int = 0) -> Routing:
    return Routing(
        stable=Arm(stable.version, stable.digest),
        canary=Arm(canary.version, canary.digest) if canary else None,
        weight=weight,
        generation=1,
    )


def test_a_declared_routing_is_read_back(
    backend: backends.Backend, publish: Publish, place: Place, kind: str
) -> None:
    first, second = publish(), publish()
    place(first)
    place(second)
    assert backend.read_routing(MODEL) is None
    routing = routing_of(first, second, weight=25)
    backend.write_routing(MODEL, routing)
    assert backend.read_routing(MODEL) == routing
    assert backend.switch_current(MODEL, first.version) == (kind == "volume")
    assert backend.switch_current(MODEL, first.version) is False  # already there
    assert backend.read_current(MODEL) == (first.version if kind == "volume" else None)
    served = {r.version: r.served for r in backend.list_versions(MODEL)}
    assert served[first.version] > served[second.version] == 0


def test_a_registered_version_is_listed(
    backend: backends.Backend, publish: Publish, place: Place
) -> None:
    published = publish()
    place(published)
    extra = versions.VersionRecord(published.version, "2026-12-02T00:00:00+00:00", published.digest)
    backend.register(MODEL, extra)  # registering again replaces, never duplicates
    assert [r.version for r in backend.list_versions(MODEL)] == [published.version]


def test_an_intact_version_verifies_and_loads_from_the_backend_root(
    backend: backends.Backend, publish: Publish, place: Place
) -> None:
    published = publish()
    place(published)
    path = backend.artifact_path(MODEL, published.version)
    assert backend.verify(path, published.digest).digest == published.digest
    backend.check_intact(path, published.digest)
    folder = backend.materialize(MODEL, Arm(published.version, published.digest))
    loaded = loading.load_version(
        backend.root, MODEL, published.version, expected_digest=published.digest
    )
    assert folder.name == published.version
    assert list(loaded.estimator.predict([[0.1], [2.9]])) == ["a", "b"]


def test_a_version_not_there_yet_is_not_found(backend: backends.Backend, publish: Publish) -> None:
    published = publish(model="other")  # on the volume under another model: never placed here
    path = backend.artifact_path(MODEL, published.version)
    with pytest.raises(VersionNotFound):
        backend.verify(path, published.digest)


def test_a_wrong_digest_is_refused(
    backend: backends.Backend, publish: Publish, place: Place
) -> None:
    published, other = publish(), publish()
    place(published)
    path = backend.artifact_path(MODEL, published.version)
    with pytest.raises(IntegrityError, match="digest mismatch"):
        backend.verify(path, other.digest)
    with pytest.raises(IntegrityError, match="digest mismatch"):
        backend.check_intact(path, other.digest)


def test_retain_drops_local_copies_only_in_a_bucket(
    backend: backends.Backend, publish: Publish, place: Place, kind: str
) -> None:
    kept, dropped = publish(), publish()
    for item in (kept, dropped):
        place(item)
        backend.materialize(MODEL, Arm(item.version, item.digest))
    removed = backend.retain(MODEL, {kept.version})
    assert removed == ([] if kind == "volume" else [dropped.version])
    assert (backend.root / MODEL / "versions" / kept.version).is_dir()
    assert (backend.root / MODEL / "versions" / dropped.version).is_dir() == (kind == "volume")


@pytest.mark.parametrize(
    "path",
    [
        "s3://elsewhere/t/intent/versions/20261202_010101_0123abcd",
        "s3://backends/other-prefix/intent/versions/20261202_010101_0123abcd",
        "s3://backends/{prefix}/intent/versions/latest",
        "s3://backends/{prefix}/../intent/versions/20261202_010101_0123abcd",
        "intent/versions/20261202_010101_0123abcd",
    ],
)
def test_a_bucket_refuses_an_artifact_path_outside_its_store(
    server: objectstores.ObjectStoreServer, tmp_path: Path, path: str
) -> None:
    backend = backends.BucketBackend(server.bucket("backends", prefix="p"), tmp_path)
    own = "s3://backends/p/intent/versions/20261202_010101_0123abcd"
    assert backend.locate(own) == ("intent", "20261202_010101_0123abcd")  # the twin: accepted
    with pytest.raises(IntegrityError, match=r"give s3://backends/p/<model>/versions/<version>"):
        backend.locate(path.format(prefix="p"))


def test_open_backend_picks_by_the_store_given(tmp_path: Path) -> None:
    assert isinstance(backends.open_backend(tmp_path), backends.VolumeBackend)
    with pytest.raises(ValueError, match="local cache"):
        backends.open_backend("s3://models/prod")
    bucket = backends.open_backend("s3://models/prod", cache=tmp_path / "cache")
    assert isinstance(bucket, backends.BucketBackend)
    assert bucket.bucket.uri == buckets.StoreUri("models", "prod")
