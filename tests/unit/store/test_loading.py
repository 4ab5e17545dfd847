"""Loading verifies before it unpickles; hostile paths and tampered files are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotswap.store import loading, manifests, publishing
from hotswap.store.errors import IntegrityError, InvalidName, PathEscape, StoreError
from hotswap.store.layout import confine
from hotswap.training import writing
from tests.unit.store.conftest import MODEL, Publish, write_tiny_model


def tamper(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


def test_loads_a_verified_version_with_its_files(root: Path, publish: Publish) -> None:
    published = publish()
    loaded = loading.load_version(root, MODEL, published.version, expected_digest=published.digest)

    assert (loaded.version, loaded.digest, loaded.format) == (
        published.version,
        published.digest,
        "joblib",
    )
    assert list(loaded.estimator.predict([[0.1], [2.9]])) == ["a", "b"]
    assert loaded.labels == {"labels": ["a", "b"]}
    assert loaded.samples == [[0.5], [2.5]]


@pytest.mark.parametrize("writer", ["hotswap train", "joblib.dump"])
def test_a_model_file_loads_whether_hotswap_or_joblib_wrote_it(
    root: Path, writer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], ["a", "a", "b", "b"])

    def write(folder: Path) -> None:
        write_tiny_model(folder)  # joblib.dump
        if writer == "hotswap train":
            writing.dump_estimator(estimator, folder / "model.joblib", format="joblib")

    published = publishing.publish_version(root, MODEL, write)
    path = published.path / "model.joblib"
    with path.open("rb") as handle:  # the premise: which unpickler the file needs
        if writer == "joblib.dump":
            with pytest.raises(loading.WrittenByJoblib):
                loading.PlainUnpickler(handle).load()
        else:
            assert list(loading.PlainUnpickler(handle).load().predict([[3.0]])) == ["b"]
    assert list(joblib.load(path).predict([[0.1], [2.9]])) == ["a", "b"], "joblib reads both"

    through_joblib: list[object] = []
    real = joblib.load
    monkeypatch.setattr(
        joblib, "load", lambda handle: through_joblib.append(handle) or real(handle)
    )
    loaded = loading.load_version(root, MODEL, published.version, expected_digest=published.digest)
    assert list(loaded.estimator.predict([[0.1], [2.9]])) == ["a", "b"]
    assert len(through_joblib) == (1 if writer == "joblib.dump" else 0)


def test_skops_format_loads_with_the_trusted_types(root: Path) -> None:
    import joblib
    import skops.io

    def write_skops(folder: Path) -> None:
        write_tiny_model(folder)
        estimator = joblib.load(folder / "model.joblib")
        (folder / "model.joblib").unlink()
        skops.io.dump(estimator, folder / "model.skops")

    published = publishing.publish_version(root, MODEL, write_skops, format="skops")
    loaded = loading.load_version(root, MODEL, published.version, expected_digest=published.digest)
    assert loaded.format == "skops"
    assert list(loaded.estimator.predict([[3.0]])) == ["b"]


def test_digest_mismatch_is_refused_before_loading(root: Path, publish: Publish) -> None:
    published = publish()
    wrong = "sha256:" + "0" * 64
    with pytest.raises(IntegrityError, match="digest mismatch"):
        loading.load_version(root, MODEL, published.version, expected_digest=wrong)


def test_truncated_artifact_is_refused(root: Path, publish: Publish) -> None:
    published = publish()
    artifact = published.path / "model.joblib"
    tamper(artifact, artifact.read_bytes()[:100])
    with pytest.raises(IntegrityError, match="corrupt or truncated"):
        loading.load_version(root, MODEL, published.version, expected_digest=published.digest)


def test_replaced_artifact_with_same_size_is_refused(root: Path, publish: Publish) -> None:
    published = publish()
    artifact = published.path / "model.joblib"
    data = bytearray(artifact.read_bytes())
    data[-1] ^= 0xFF
    tamper(artifact, bytes(data))
    with pytest.raises(IntegrityError):
        manifests.verify_folder(published.path, published.digest)


def test_symlink_inside_a_version_folder_is_refused(root: Path, publish: Publish) -> None:
    published = publish()
    published.path.chmod(0o755)
    (published.path / "extra.json").symlink_to("/etc/hostname")
    with pytest.raises(PathEscape, match="symlink"):
        loading.load_version(root, MODEL, published.version, expected_digest=published.digest)


def test_artifact_replaced_by_symlink_is_refused(root: Path, publish: Publish) -> None:
    published = publish()
    artifact = published.path / "model.joblib"
    outside = root.parent / "evil.joblib"
    outside.write_bytes(artifact.read_bytes())
    artifact.unlink()
    artifact.symlink_to(outside)
    with pytest.raises(PathEscape):
        loading.load_version(root, MODEL, published.version)


def test_unlisted_file_is_refused(root: Path, publish: Publish) -> None:
    published = publish()
    (published.path / "backdoor.joblib").write_bytes(b"x")
    with pytest.raises(IntegrityError, match="unlisted"):
        loading.load_version(root, MODEL, published.version)


def test_version_folder_that_is_a_symlink_is_refused(root: Path, publish: Publish) -> None:
    published = publish()
    elsewhere = root.parent / "elsewhere"
    os.rename(published.path, elsewhere)
    published.path.symlink_to(elsewhere)
    with pytest.raises(PathEscape):
        loading.load_version(root, MODEL, published.version)


HOSTILE_RELATIVE = [
    "../etc/passwd",
    "../../etc/shadow",
    "intent/../../x",
    "intent/versions/../../../x",
    "./../x",
    "a/b/../../../c",
    "/etc/passwd",
    "/",
    "//etc",
    "/tmp/../etc",
    "~/.ssh/id_rsa",
    "~root",
    "",
    "intent\x00/versions",
    "\x00",
    "..",
    "../",
    "..\\..\\windows",
    "intent\\..\\..\\x",
    "intent/versions/..",
    "intent/./../..",
    "a/" * 10 + "../" * 11,
]
HOSTILE_VERSIONS = [
    "../x",
    "..",
    "/etc",
    "20261128_142501_3f9c1a2b/../../x",
    "20261128_142501_3f9c1a2b/",
    "20261128_142501_3F9C1A2B",
    "20261128-142501-3f9c1a2b",
    "2026112_142501_3f9c1a2b",
    "20261128_142501_3f9c1a2",
    "20261128_142501_3f9c1a2bb",
    " 20261128_142501_3f9c1a2b",
    "20261128_142501_3f9c1a2b\n",
    "20261128_142501_3f9c1a2b\x00",
    "latest",
    "current",
    "",
    "*",
    "versions/20261128_142501_3f9c1a2b",
]
HOSTILE_MODELS = [
    "../intent",
    "Intent",
    "intent/",
    "-intent",
    "intent-",
    "in tent",
    "intent\x00",
    "a" * 64,
    "",
    "..",
    "/",
    "in_tent",
]


@pytest.mark.parametrize("relative", HOSTILE_RELATIVE)
def test_hostile_relative_paths_are_refused(root: Path, relative: str) -> None:
    with pytest.raises(PathEscape):
        confine(root, relative)


def test_symlink_escape_through_a_model_folder_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "versions").mkdir(parents=True)
    (root / "escape").symlink_to(outside)
    with pytest.raises(PathEscape, match="outside the model root"):
        confine(root, "escape/versions")


@pytest.mark.parametrize("version", HOSTILE_VERSIONS)
def test_hostile_version_ids_are_refused(root: Path, publish: Publish, version: str) -> None:
    serving = publish()
    with pytest.raises(StoreError):
        loading.load_version(root, MODEL, version)
    assert loading.load_version(root, MODEL, serving.version).version == serving.version


@pytest.mark.parametrize("model", HOSTILE_MODELS)
def test_hostile_model_names_are_refused(root: Path, model: str) -> None:
    with pytest.raises(InvalidName, match="DNS label"):
        loading.load_version(root, model, "20261128_142501_3f9c1a2b")
