"""`make images` and `make e2e-kind` stop with a clear message where no engine runs, instead
of failing half-way or pretending; the system-deps step is a no-op when tools are present."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.unit.shipping.kustomizing import REPO


def fake_engine(folder: Path, name: str) -> Path:
    """A `name` on PATH whose every call fails, as docker does with no daemon."""
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    tool.chmod(0o755)
    return folder


def run(script: str, *, path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PATH": f"{path}:{os.environ['PATH']}", **env}
    argv = ["bash", str(REPO / "tools" / script)]
    return subprocess.run(argv, capture_output=True, text=True, env=environ, check=False)


def test_images_says_no_engine_and_fails(tmp_path: Path) -> None:
    bin_dir = fake_engine(tmp_path / "bin", "docker")
    done = run("build-images.sh", path=bin_dir, HOTSWAP_BUILDAH="no-such-buildah")
    assert done.returncode == 2, f"expected exit 2, saw {done.returncode}: {done.stderr}"
    assert "no container engine" in done.stderr and "NOT built" in done.stderr, done.stderr
    assert "buildah is not installed" in done.stderr, done.stderr


def test_images_names_a_missing_engine(tmp_path: Path) -> None:
    done = run("build-images.sh", path=tmp_path, CONTAINER_ENGINE="no-such-engine")
    assert done.returncode == 2
    assert "'no-such-engine' is not installed" in done.stderr, done.stderr


def test_e2e_kind_stops_before_doing_anything_without_docker(tmp_path: Path) -> None:
    done = run("e2e-kind.sh", path=fake_engine(tmp_path / "bin", "docker"))
    assert done.returncode == 2, f"expected exit 2, saw {done.returncode}: {done.stderr}"
    assert "nothing was run" in done.stderr, done.stderr
    assert done.stdout == "", f"expected no step started, saw:\n{done.stdout}"


def test_system_deps_is_a_no_op_when_tools_are_present() -> None:
    done = run("install-system-deps.sh", path=REPO)
    assert done.returncode == 0, done.stderr
    assert "installing" not in done.stdout, "expected nothing installed: promtool is present"
