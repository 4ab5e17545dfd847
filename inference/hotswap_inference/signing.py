"""Feedback tokens: HMAC-SHA256 over (request id, version, arm, issue time).

Every prediction answer carries a token signed with the feedback key all pods share; `POST
/feedback` credits a reward only to the version and arm inside a valid token. A token is

    1.<issued>.<version>.<arm>.<mac>.<request id>

(format 1; `issued` in Unix seconds; the request id last, as it may hold dots), where `<mac>` is
the first 16 bytes, in hex, of HMAC-SHA256 over the same text without the `.<mac>` part, as
UTF-8. Plain text rather than base64 JSON: signing it is most of its cost on every answer.

The key is re-read every `REREAD_SECONDS`, so a rotated Secret applies without a restart; the
key before it still verifies, so tokens signed by a pod that saw the new Secret earlier (or
later) are not refused during the rollover.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hotswap_inference.errors import FeedbackDisabled, FeedbackTokenExpired, FeedbackTokenInvalid
from hotswap_inference.settings import MIN_FEEDBACK_KEY_CHARS

log = logging.getLogger(__name__)

FORMAT = "1"
MAC_BYTES = 16  # HMAC-SHA256 truncated to 128 bits (RFC 2104, section 5)
BLOCK = 64  # SHA-256's block size
INNER_PAD = bytes(b ^ 0x36 for b in range(256))  # RFC 2104's ipad, as a translate table
OUTER_PAD = bytes(b ^ 0x5C for b in range(256))  # opad
REREAD_SECONDS = 5.0
CLOCK_SKEW_SECONDS = 60  # a token issued this far "in the future" (another pod's clock) is fine
SETTING = "HOTSWAP_FEEDBACK_KEY_FILE (or HOTSWAP_FEEDBACK_KEY)"


@dataclass(frozen=True)
class Claim:
    """What a valid token says: this pod's `version` on `arm` answered `request_id`."""

    request_id: str
    version: str
    arm: str
    issued: int  # Unix seconds
    mac: str  # the signature: the token's identity for replay checks


class Mac:
    """HMAC-SHA256 (RFC 2104) with the key's two padded blocks hashed once.

    Signing one token copies two SHA-256 states (about 1 us), where `hmac.digest` builds an
    OpenSSL 3 HMAC context per call (about 2.5 us). The tests check it against `hmac`.
    """

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > BLOCK else key).ljust(BLOCK, b"\0")
        self._inner = hashlib.sha256(block.translate(INNER_PAD))
        self._outer = hashlib.sha256(block.translate(OUTER_PAD))

    def sign(self, raw: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(raw)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


class Keys:
    """The current feedback key (None when unset or unusable) and the one before it."""

    def __init__(self, read: Callable[[], str | None]) -> None:
        self.read = read
        self.current: bytes | None = None
        self.macs: tuple[Mac, ...] = ()  # of the current key, then of the one before it
        self.problem = ""
        self._read_at = -REREAD_SECONDS

    def signing_mac(self) -> Mac | None:
        """The current key's `Mac`, the key file re-read at most every `REREAD_SECONDS`."""
        now = time.monotonic()
        if now - self._read_at >= REREAD_SECONDS:
            self._read_at = now
            self.refresh()
        return self.macs[0] if self.current is not None else None

    def verifying_macs(self) -> tuple[Mac, ...]:
        """Current first; raises `FeedbackDisabled` (naming the setting) when there is none."""
        if self.signing_mac() is None:
            raise FeedbackDisabled(self.problem, setting=SETTING)
        return self.macs

    def refresh(self) -> None:
        try:
            text = self.read()
        except OSError as exc:  # keep the key in use: the Secret may be mid-update
            log.warning("cannot read the feedback key: %s", exc)
            return
        key, self.problem = usable_key(text)
        if key != self.current:
            self.current = key
            self.macs = ((Mac(key),) if key else ()) + self.macs[:1]


def usable_key(text: str | None) -> tuple[bytes | None, str]:
    """The key, or None and what is wrong with it."""
    if not text:
        return None, f"no feedback key is configured on this pod: set {SETTING}"
    if len(text) < MIN_FEEDBACK_KEY_CHARS:
        return None, (
            f"the feedback key is shorter than {MIN_FEEDBACK_KEY_CHARS} characters: set {SETTING} "
            "to a long random string, e.g. secrets.token_urlsafe(32)"
        )
    return text.encode(), ""


class Signer:
    def __init__(self, keys: Keys, *, ttl_seconds: float) -> None:
        self.keys = keys
        self.ttl_seconds = ttl_seconds

    def issue(self, request_id: str, version: str, arm: str) -> str | None:
        """The token of one answer; None without a key (the answer carries no token then)."""
        mac = self.keys.signing_mac()
        if mac is None:
            return None
        head = f"{FORMAT}.{int(time.time())}.{version}.{arm}"
        signature = mac.sign(f"{head}.{request_id}".encode())[:MAC_BYTES].hex()
        return f"{head}.{signature}.{request_id}"

    def verify(self, token: str, *, now: float | None = None) -> Claim:
        """The claim of a token this deployment signed and that has not expired."""
        macs = self.keys.verifying_macs()
        fields = token.split(".", 5)
        if (
            len(fields) != 6
            or fields[0] != FORMAT
            or not fields[1].isascii()
            or not fields[1].isdigit()
        ):
            raise FeedbackTokenInvalid(
                f"feedback_token is not a token a prediction returned (format {FORMAT})"
            )
        _, issued, version, arm, signature, request_id = fields
        raw = f"{FORMAT}.{issued}.{version}.{arm}.{request_id}".encode()
        given = signature.encode()
        if not any(
            hmac.compare_digest(given, m.sign(raw)[:MAC_BYTES].hex().encode()) for m in macs
        ):
            raise FeedbackTokenInvalid(
                "feedback_token is not signed with this deployment's feedback key: send it "
                "exactly as the prediction response gave it"
            )
        claim = Claim(request_id, version, arm, int(issued), signature)
        self.check_age(claim, time.time() if now is None else now)
        return claim

    def check_age(self, claim: Claim, now: float) -> None:
        if claim.issued > now + CLOCK_SKEW_SECONDS:
            raise FeedbackTokenInvalid("feedback_token was issued in the future: check pod clocks")
        if now - claim.issued > self.ttl_seconds:
            raise FeedbackTokenExpired(
                f"feedback_token expired: feedback is credited within {self.ttl_seconds:g} s "
                "of the prediction (HOTSWAP_FEEDBACK_TTL_SECONDS)"
            )
