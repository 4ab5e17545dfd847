"""`hotswap train --store s3://...` and `hotswap versions --store` against a real S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hotswap import cli
from hotswap.local import objectstores
from hotswap.store import backends, loading, remotes
from hotswap.store.routes import Arm, Routing


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[objectstores.ObjectStoreServer]:
    """versitygw with a bucket `models`; the AWS environment points at it, as a user's would."""
    with objectstores.object_store(tmp_path / "s3") as server:
        server.bucket("models")
        for key, value in server.environ.items():
            monkeypatch.setenv(key, value)
        yield server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_publishes_to_the_bucket_and_prints_its_model_version(
    s3: objectstores.ObjectStoreServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    volume = tmp_path / "volume"
    code, out, err = run(capsys, "train", "--store", "s3://models/prod", "--root", str(volume))
    assert code == 0, err
    spec = yaml.safe_load(out)["spec"]
    version, digest = spec["version"], spec["digest"]
    assert spec["artifactPath"] == f"s3://models/prod/intent/versions/{version}"
    assert f"#   path     s3://models/prod/intent/versions/{version}" in out
    assert not volume.exists(), "with --store nothing is written to --root"

    backend = backends.BucketBackend(s3.bucket("models", prefix="prod"), tmp_path / "cache")
    assert [r.version for r in backend.list_versions("intent")] == [version]
    backend.materialize("intent", Arm(version, digest))
    loaded = loading.load_version(backend.root, "intent", version, expected_digest=digest)
    assert loaded.estimator.predict(["what is my balance"]).shape == (1,)

    remotes.write_routing(backend.bucket, "intent", Routing(stable=Arm(version, digest)))
    code, out, err = run(capsys, "versions", "--store", "s3://models/prod")
    assert code == 0, err
    assert f"intent   {version}" in out and out.rstrip().endswith("stable"), out


def test_versions_of_an_empty_store_says_so(
    s3: objectstores.ObjectStoreServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "versions", "--store", "s3://models/empty")
    assert code == 0
    assert "no versions of any model under s3://models/empty" in out


@pytest.mark.parametrize(
    "store, says",
    [
        ("s3://Models/prod", "bucket name 'Models' is not valid"),
        ("s3://models/../prod", "segment '..'"),
        ("s3://missing-bucket", "bucket s3://missing-bucket/"),
    ],
)
def test_a_bad_store_is_refused_before_training_with_a_clear_error(
    s3: objectstores.ObjectStoreServer,
    capsys: pytest.CaptureFixture[str],
    store: str,
    says: str,
) -> None:
    code, out, err = run(capsys, "train", "--store", store)
    assert code != 0 and says in err, err
    assert "trained" not in out
