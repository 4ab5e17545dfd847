"""The operator's settings, from HOTSWAP_* environment variables (documented in docs/api.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """A setting that cannot work; the message names the variable and the fix."""


@dataclass(frozen=True)
class Config:
    model_root: Path
    reload_token_value: str | None = None  # HOTSWAP_RELOAD_TOKEN (local runs and tests)
    reload_token_file: Path | None = None  # HOTSWAP_RELOAD_TOKEN_FILE: re-read on every use
    admin_port: int = 8001  # a pod annotation hotswap.dev/admin-port overrides it
    metrics_port: int = 9189
    metrics_host: str = "0.0.0.0"
    tick_seconds: float = 1.0  # how often a Canary is re-observed when nothing happens
    signal_timeout: float = 10.0  # seconds one reload or status request may take
    prometheus_url: str | None = None  # the analysis reads Prometheus instead of the pods

    @property
    def reload_token(self) -> str | None:
        """The bearer token sent to the pods' admin port: the file's content, read again on
        every use (a rotated Secret reaches the operator as it reaches the pods, which re-read
        theirs per request), else HOTSWAP_RELOAD_TOKEN."""
        if self.reload_token_file is None:
            return self.reload_token_value
        return _read_token(self.reload_token_file)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    root = env.get("HOTSWAP_MODEL_ROOT", "")
    if not root:
        raise ConfigError("HOTSWAP_MODEL_ROOT is not set: point it at the model volume root")
    token_file = (
        Path(env["HOTSWAP_RELOAD_TOKEN_FILE"]) if env.get("HOTSWAP_RELOAD_TOKEN_FILE") else None
    )
    if token_file is not None:
        _read_token(token_file)  # unreadable at startup: refuse to start, naming the setting
    return Config(
        model_root=Path(root),
        reload_token_value=env.get("HOTSWAP_RELOAD_TOKEN") or None,
        reload_token_file=token_file,
        admin_port=_int(env, "HOTSWAP_ADMIN_PORT", 8001),
        metrics_port=_int(env, "HOTSWAP_OPERATOR_METRICS_PORT", 9189),
        metrics_host=env.get("HOTSWAP_OPERATOR_METRICS_HOST", "0.0.0.0"),
        tick_seconds=_float(env, "HOTSWAP_OPERATOR_TICK_SECONDS", 1.0),
        signal_timeout=_float(env, "HOTSWAP_OPERATOR_SIGNAL_TIMEOUT", 10.0),
        prometheus_url=env.get("HOTSWAP_PROMETHEUS_URL") or None,
    )


def _read_token(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError as exc:
        raise ConfigError(
            f"HOTSWAP_RELOAD_TOKEN_FILE {path} cannot be read ({exc.strerror}): mount the "
            "reload token Secret there as a file (a volume, not an env var or subPath)"
        ) from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name) or default)
    except ValueError as exc:
        raise ConfigError(f"{name}={env[name]!r} is not an integer") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError as exc:
        raise ConfigError(f"{name}={env[name]!r} is not a number") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value
