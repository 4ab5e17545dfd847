"""An S3-compatible bucket as a model store: where objects live, and conditional writes.

s3://<bucket>/<prefix>/<model>/versions/<id>/<file>   every file, then MANIFEST.json last
s3://<bucket>/<prefix>/<model>/versions.json          the registry, replaced whole
s3://<bucket>/<prefix>/<model>/routing.json           the routing, replaced whole

The keys mirror the volume's layout (layout.py) so a version downloaded into a local folder is
a version folder the volume's verified loading reads unchanged. A single object is replaced
whole (S3 has no partial writes); a read-modify-write sends `If-Match` with the ETag it read
(`If-None-Match: *` when it read nothing), so two writers cannot lose an update where the server
supports conditional writes (AWS S3 since 2024, versitygw). boto3 is imported lazily: only the
object-store paths need the `s3` extra.
"""

from __future__ import annotations

import enum
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from hotswap.store import names
from hotswap.store.errors import InvalidName, StoreError, VersionNotFound
from hotswap.store.layout import REGISTRY, ROUTING, VERSIONS

SCHEME = "s3://"
# S3's bucket naming rules (3-63 lowercase letters, digits, '.', '-'; a letter or digit at
# both ends); a prefix is '/'-separated segments of letters, digits, '.', '_', '-', never '.'
# or '..' alone, so a key built from it cannot climb or collide with another model's keys.
BUCKET_NAME = re.compile(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z", re.ASCII)
PREFIX_SEGMENT = re.compile(r"\A[A-Za-z0-9._-]{1,128}\Z", re.ASCII)
UPDATE_ATTEMPTS = 12
ENDPOINT_ENV = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


class Anything(enum.Enum):
    """`Bucket.write(over=ANYTHING)`: no condition on what the object holds."""

    ANYTHING = "anything"


ANYTHING = Anything.ANYTHING


class Unavailable(StoreError):
    """The object store could not be reached, or refused the request."""


class Conflict(StoreError):
    """A conditional write lost: another writer replaced the object first."""


@dataclass(frozen=True)
class StoreUri:
    """`s3://<bucket>[/<prefix>]`: where a model store lives in object storage."""

    bucket: str
    prefix: str = ""

    def __post_init__(self) -> None:
        check_bucket(self.bucket)
        for segment in self.prefix.split("/") if self.prefix else ():
            check_prefix_segment(segment, self.prefix)

    @classmethod
    def parse(cls, uri: str) -> StoreUri:
        if not isinstance(uri, str) or not uri.startswith(SCHEME):
            raise InvalidName(
                f"store {uri!r} is not an object-store URI: give s3://<bucket>[/<prefix>]"
            )
        bucket, _, prefix = uri[len(SCHEME) :].partition("/")
        return cls(bucket, prefix.rstrip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def version_uri(self, model: str, version: str) -> str:
        """A version folder as a URI: a ModelVersion's artifactPath in the object store."""
        return f"{SCHEME}{self.bucket}/{version_key(self, model, version)}"

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"


def check_bucket(bucket: str) -> str:
    if not BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise InvalidName(
            f"bucket name {bucket!r} is not valid: use 3-63 lowercase letters, digits, '.' and "
            "'-', starting and ending with a letter or digit"
        )
    return bucket


def check_prefix_segment(segment: str, prefix: str) -> None:
    if segment in (".", "..") or not PREFIX_SEGMENT.fullmatch(segment):
        raise InvalidName(
            f"store prefix {prefix!r} has a segment {segment[:40]!r} that is not allowed: use "
            "'/'-separated names of letters, digits, '.', '_' and '-' (no '.', '..' or '//')"
        )


def model_key(uri: StoreUri, model: str, name: str) -> str:
    return uri.key(names.check_model_name(model), name)


def version_key(uri: StoreUri, model: str, version: str, name: str = "") -> str:
    parts = (names.check_model_name(model), VERSIONS, names.check_version_id(version), name)
    return uri.key(*parts)


def registry_key(uri: StoreUri, model: str) -> str:
    return model_key(uri, model, REGISTRY)


def routing_key(uri: StoreUri, model: str) -> str:
    return model_key(uri, model, ROUTING)


@dataclass(frozen=True)
class Blob:
    data: bytes
    etag: str


class Bucket:
    """One bucket's objects through an S3 client; every failure is a StoreError."""

    def __init__(self, uri: StoreUri, client: Any) -> None:
        self.uri = uri
        self._client = client

    def read(self, key: str) -> Blob | None:
        """The object and its ETag, or None when there is none."""
        try:
            reply = self._call("GetObject", Key=key)
        except VersionNotFound:
            return None
        return Blob(reply["Body"].read(), reply["ETag"])

    def stream(self, key: str) -> BinaryIO:
        """The object's body as a stream (VersionNotFound when there is none)."""
        body: BinaryIO = self._call("GetObject", Key=key)["Body"]
        return body

    def write(self, key: str, data: bytes, *, over: Blob | Anything | None = ANYTHING) -> None:
        """Put `data` at `key` over: ANYTHING (unconditional), None (only where there is no
        object) or the Blob read before (only if unchanged since); Conflict when it fails."""
        condition: dict[str, str] = {}
        if over is None:
            condition["IfNoneMatch"] = "*"
        elif isinstance(over, Blob):
            condition["IfMatch"] = over.etag
        self._call("PutObject", Key=key, Body=data, **condition)

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` (paged)."""
        token: dict[str, str] = {}
        while True:
            reply = self._call("ListObjectsV2", Prefix=prefix, **token)
            yield from (item["Key"] for item in reply.get("Contents", []))
            if not reply.get("IsTruncated"):
                return
            token = {"ContinuationToken": reply["NextContinuationToken"]}

    def folders(self, prefix: str) -> Iterator[str]:
        """The names one level below `prefix` (S3's common prefixes with '/'), paged."""
        token: dict[str, str] = {}
        while True:
            reply = self._call("ListObjectsV2", Prefix=prefix, Delimiter="/", **token)
            for item in reply.get("CommonPrefixes", []):
                yield item["Prefix"][len(prefix) :].rstrip("/")
            if not reply.get("IsTruncated"):
                return
            token = {"ContinuationToken": reply["NextContinuationToken"]}

    def delete(self, key: str) -> None:
        self._call("DeleteObject", Key=key)

    def update(self, key: str, change: Callable[[bytes | None], bytes | None]) -> None:
        """Read-modify-write of one object, retried when another writer got in between.

        `change` gets the current bytes (None when absent) and returns the new ones, or None
        to leave the object as it is.
        """
        for attempt in range(UPDATE_ATTEMPTS):
            current = self.read(key)
            new = change(current.data if current else None)
            if new is None:
                return
            try:
                self.write(key, new, over=current)
                return
            except Conflict:  # another writer won: back off (jittered, growing), then re-read
                time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))
        raise Conflict(
            f"{self.uri.bucket}/{key} kept changing under {UPDATE_ATTEMPTS} attempts to update "
            "it: another writer is busy; retry"
        )

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self._client, _snake(operation))
        where = f"{SCHEME}{self.uri.bucket}/{params.get('Key') or params.get('Prefix', '')}"
        try:
            return method(Bucket=self.uri.bucket, **params)
        except ClientError as exc:
            raise _client_error(exc, operation, where) from exc
        except BotoCoreError as exc:
            raise Unavailable(f"{operation} {where} failed: {exc}") from exc


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()  # ListObjectsV2: list_objects_v2


def _client_error(exc: Any, operation: str, where: str) -> StoreError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in ("NoSuchKey", "404", "NotFound"):
        return VersionNotFound(f"{where} does not exist")
    if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
        return Conflict(f"{operation} {where}: another writer changed it first ({code})")
    if code == "NoSuchBucket":
        return Unavailable(f"bucket {where} does not exist: create it or fix --store")
    return Unavailable(f"{operation} {where} was refused: {code or status} {error.get('Message')}")


def connect(uri: StoreUri, *, endpoint_url: str | None = None) -> Bucket:
    """A Bucket through boto3: credentials and region from the usual AWS environment
    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, a profile, IRSA), the endpoint from
    `endpoint_url` or $AWS_ENDPOINT_URL_S3 / $AWS_ENDPOINT_URL (an S3-compatible server; path-style
    addressing then, so no DNS per bucket is needed)."""
    return Bucket(uri, client(endpoint_url))


def client(endpoint_url: str | None = None, **credentials: str) -> Any:
    """A boto3 S3 client with the store's timeouts and retries; `credentials` (boto3's
    aws_access_key_id, aws_secret_access_key, region_name) override the AWS environment."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise Unavailable("the object store needs boto3: pip install 'hotswap[s3]'") from exc
    endpoint_url = endpoint_url or next(filter(None, map(os.environ.get, ENDPOINT_ENV)), None)
    style = "path" if endpoint_url else "auto"
    config = Config(
        s3={"addressing_style": style},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url, config=config, **credentials)
