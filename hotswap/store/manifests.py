"""MANIFEST.json: the sha256 of every file of a version, written last; its hash is the digest."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from hotswap.store import files, names
from hotswap.store.errors import IntegrityError, PathEscape

MANIFEST = "MANIFEST.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    model: str
    version: str
    files: dict[str, str]  # file name -> sha256 hex
    raw: bytes  # the exact bytes on disk: the digest is their hash

    @property
    def digest(self) -> str:
        return digest_of_bytes(self.raw)


def digest_of_bytes(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def hash_stream(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def hash_file(path: Path) -> str:
    with open_plain(path) as handle:
        return hash_stream(handle)


def open_plain(path: Path) -> BinaryIO:
    """Open a regular file for reading, refusing symlinks (no TOCTOU: O_NOFOLLOW)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: the last component is a symlink
            raise PathEscape(f"{path.name} is a symlink: versions hold regular files only") from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PathEscape(f"{path.name} is not a regular file")
    return os.fdopen(fd, "rb")


def regular_files(folder: Path) -> Iterator[Path]:
    """The files of a version folder; a symlink or sub-folder there is refused."""
    for entry in sorted(folder.iterdir()):
        mode = entry.lstat().st_mode
        if stat.S_ISLNK(mode):
            raise PathEscape(f"{entry.name} in {folder.name} is a symlink: refusing it")
        if not stat.S_ISREG(mode):
            raise PathEscape(f"{entry.name} in {folder.name} is not a regular file")
        yield entry


def write_manifest(folder: Path, *, model: str, version: str) -> Manifest:
    """Hash every file of `folder` and write MANIFEST.json last (durably)."""
    hashes = {p.name: hash_file(p) for p in regular_files(folder) if p.name != MANIFEST}
    body = {"model": model, "version": version, "files": hashes, "schema": 1}
    raw = files.dump_json(body)
    files.write_bytes(folder / MANIFEST, raw)
    return Manifest(model=model, version=version, files=hashes, raw=raw)


def read_manifest(folder: Path, expected_digest: str | None = None) -> Manifest:
    """Read MANIFEST.json, checking its digest when one is expected."""
    with open_plain(folder / MANIFEST) as handle:
        raw = handle.read()
    if expected_digest is not None and digest_of_bytes(raw) != names.check_digest(expected_digest):
        raise IntegrityError(
            f"digest mismatch for {folder.name}: expected {expected_digest}, "
            f"the manifest hashes to {digest_of_bytes(raw)}"
        )
    return parse_manifest(raw, folder.name)


def parse_manifest(raw: bytes, where: str) -> Manifest:
    try:
        body: Any = json.loads(raw)
        hashes = {str(k): str(v) for k, v in body["files"].items()}
        return Manifest(model=body["model"], version=body["version"], files=hashes, raw=raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"MANIFEST.json of {where} is malformed: {exc}") from exc


def verify_folder(folder: Path, expected_digest: str | None = None) -> Manifest:
    """Check a whole version folder: manifest digest, every file's hash, no extra files."""
    manifest = verify_listing(folder, expected_digest)
    for name, expected in manifest.files.items():
        check_hash(folder / name, expected, hash_file(folder / name))
    return manifest


def verify_listing(folder: Path, expected_digest: str | None = None) -> Manifest:
    """Check the manifest digest and that the folder holds exactly the listed regular files."""
    manifest = read_manifest(folder, expected_digest)
    present = {p.name for p in regular_files(folder)} - {MANIFEST}
    if present != set(manifest.files):
        raise IntegrityError(
            f"files of {folder.name} differ from its manifest: "
            f"missing {sorted(set(manifest.files) - present)}, "
            f"unlisted {sorted(present - set(manifest.files))}"
        )
    return manifest


def check_hash(path: Path, expected: str, actual: str) -> None:
    if actual != expected:
        raise IntegrityError(
            f"{path.parent.name}/{path.name} is corrupt or truncated: sha256 {actual}, "
            f"manifest says {expected}"
        )
