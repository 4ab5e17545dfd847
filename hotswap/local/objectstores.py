"""A real S3-compatible server on loopback: versitygw over a local folder (tests, benches).

The binary is built from Go modules by tools/build-objectstore.sh (cached); MinIO is AGPL and is
not used. Credentials are fresh random keys per server, given to clients through the usual AWS
environment variables (`ObjectStoreServer.environ`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotswap.local.replicas import free_port
from hotswap.store import buckets

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "tools" / "build-objectstore.sh"
START_SECONDS = 20.0


class ObjectStoreMissing(RuntimeError):
    """versitygw is not built: run `bash tools/build-objectstore.sh` (make test does)."""


@dataclass(frozen=True)
class ObjectStoreServer:
    endpoint: str
    access_key: str
    secret_key: str
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def environ(self) -> dict[str, str]:
        """What an S3 client needs: endpoint and credentials, as AWS tools read them."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
        }

    def bucket(self, name: str, *, prefix: str = "") -> buckets.Bucket:
        """A client of bucket `name` (created when missing) on this server."""
        uri = buckets.StoreUri(name, prefix)
        client = _client(self)
        if name not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
            client.create_bucket(Bucket=name)
        return buckets.Bucket(uri, client)

    def restart(self) -> ObjectStoreServer:
        """The same server again (same folder, endpoint and keys) after `stop`."""
        port = int(self.endpoint.rsplit(":", 1)[1])
        host = self.endpoint.split("//", 1)[1].rsplit(":", 1)[0]
        return start(self.folder, host=host, port=port, keys=(self.access_key, self.secret_key))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def binary() -> Path:
    path = Path(subprocess.check_output(["bash", str(BUILD_SCRIPT), "--path"], text=True).strip())
    if not path.is_file():
        raise ObjectStoreMissing(f"{path} is missing: run `bash {BUILD_SCRIPT}` to build it")
    return path


@contextmanager
def object_store(folder: Path, *, host: str = "127.0.0.1") -> Iterator[ObjectStoreServer]:
    """versitygw serving `folder` (each top-level folder a bucket) on a free loopback port."""
    server = start(folder, host=host)
    try:
        yield server
    finally:
        server.stop()


def start(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    keys: tuple[str, str] | None = None,
) -> ObjectStoreServer:
    """versitygw over `folder`; `port` and `keys` (access, secret) restart a stopped one as it
    was (same endpoint, same credentials), else a free port and fresh random keys."""
    if not host.startswith("127."):
        raise ValueError(f"object store host {host!r} is not loopback: use a 127.0.0.x address")
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    access, secret = keys or (f"hotswap{secrets.token_hex(6)}", secrets.token_hex(20))
    argv = [str(binary()), "--port", f"{host}:{port}", "--quiet", "posix", str(folder)]
    env = {**os.environ, "ROOT_ACCESS_KEY_ID": access, "ROOT_SECRET_ACCESS_KEY": secret}
    log = open(folder.parent / f"versitygw-{port}.log", "ab")  # noqa: SIM115 - the child owns it
    with log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ObjectStoreServer(f"http://{host}:{port}", access, secret, folder, process)
    _wait_ready(server)
    return server


def _wait_ready(server: ObjectStoreServer) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"versitygw exited with {server.process.returncode} at start")
        try:
            _client(server).list_buckets()
            return
        except Exception:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"versitygw did not answer on {server.endpoint} in {START_SECONDS:.0f} s")


def _client(server: ObjectStoreServer) -> Any:
    return buckets.client(
        server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )
