"""Publish is atomic: a version is visible whole or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hotswap.store import manifests, versions
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, Publish


def visible_versions(root: Path) -> list[str]:
    folder = ModelPaths(root, MODEL).versions
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_publish_writes_manifest_registry_and_read_only_files(root: Path, publish: Publish) -> None:
    published = publish(metrics={"accuracy": 0.9})

    manifest = manifests.verify_folder(published.path, published.digest)
    assert set(manifest.files) == {"model.joblib", "label_mappings.json", "samples.json"}
    record = versions.get_version(ModelPaths(root, MODEL), published.version)
    assert (record.digest, record.metrics) == (published.digest, {"accuracy": 0.9})
    assert published.relative == f"{MODEL}/versions/{published.version}"
    assert not os.access(published.path / "model.joblib", os.W_OK) or os.geteuid() == 0
    assert oct((published.path / "model.joblib").stat().st_mode & 0o777) == oct(0o444)


def test_failed_writer_leaves_nothing_visible(root: Path) -> None:
    from hotswap.store import publishing

    def broken(folder: Path) -> None:
        (folder / "model.joblib").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        publishing.publish_version(root, MODEL, broken)

    assert visible_versions(root) == []
    assert list(ModelPaths(root, MODEL).versions.iterdir()) == []
    assert versions.list_versions(ModelPaths(root, MODEL)) == []


KILLED_PUBLISH = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from hotswap.store import publishing

    def write(folder):
        (folder / "model.joblib").write_bytes(b"x" * 4096)
        print("staged", flush=True)
        signal.pause()  # killed here, midway

    publishing.publish_version(Path(sys.argv[1]), "intent", write)
    """
)


def test_publish_killed_midway_leaves_no_visible_version(root: Path, publish: Publish) -> None:
    before = publish()
    command = [sys.executable, "-c", KILLED_PUBLISH, str(root)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "staged"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)

    assert visible_versions(root) == [before.version]
    assert [r.version for r in versions.list_versions(ModelPaths(root, MODEL))] == [before.version]


def test_two_writers_register_every_version(root: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from tests.unit.store.conftest import write_tiny_model
        from hotswap.store import publishing
        for _ in range(10):
            publishing.publish_version(Path(sys.argv[1]), "intent", write_tiny_model)
        """
    )
    cwd = Path(__file__).resolve().parents[3]
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(root)], cwd=cwd) for _ in range(2)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]

    registered = [r.version for r in versions.list_versions(ModelPaths(root, MODEL))]
    assert len(registered) == 20, f"expected 20 registered versions, saw {len(registered)}"
    assert sorted(registered) == visible_versions(root)
