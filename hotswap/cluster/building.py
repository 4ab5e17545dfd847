"""Find (and build once) kube-apiserver and etcd. The logic lives in one place,
`tools/build-control-plane.sh`; this module runs it and reads the paths it reports."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import hotswap


class BuildError(Exception):
    """The control-plane binaries are missing and could not be built."""


@dataclass(frozen=True)
class Binaries:
    kube_apiserver: Path
    etcd: Path

    @property
    def present(self) -> bool:
        return all(os.access(path, os.X_OK) for path in (self.kube_apiserver, self.etcd))


def repo_root() -> Path:
    """The source checkout (`tools/`, `crds/`); HOTSWAP_REPO overrides."""
    return Path(os.environ.get("HOTSWAP_REPO") or Path(hotswap.__file__).parents[1])


def script() -> Path:
    path = repo_root() / "tools" / "build-control-plane.sh"
    if not path.is_file():
        raise BuildError(f"{path} not found: run from a source checkout or set HOTSWAP_REPO")
    return path


def locate() -> Binaries:
    """Where the binaries are (or will be) cached; builds nothing."""
    out = subprocess.run(
        ["bash", str(script()), "--paths"], check=True, capture_output=True, text=True
    ).stdout
    paths = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return Binaries(Path(paths["KUBE_APISERVER"]), Path(paths["ETCD"]))


def ensure_built() -> Binaries:
    """Build what is missing; the script's progress (minutes on a cold build) goes to stderr,
    so `eval "$(hotswap cluster up)"` still works."""
    binaries = locate()
    if binaries.present:
        return binaries
    result = subprocess.run(["bash", str(script())], check=False, stdout=2)
    if result.returncode != 0 or not binaries.present:
        raise BuildError(f"building the control plane failed (exit {result.returncode})")
    return binaries
