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
    reload_token: str | None = None
    admin_port: int = 8001  # a pod annotation hotswap.dev/admin-port overrides it
    metrics_port: int = 9189
    metrics_host: str = "0.0.0.0"
    tick_seconds: float = 1.0  # how often a Canary is re-observed when nothing happens
    signal_timeout: float = 10.0  # seconds one reload or status request may take
    prometheus_url: str | None = None  # the analysis reads Prometheus instead of the pods


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    root = env.get("HOTSWAP_MODEL_ROOT", "")
    if not root:
        raise ConfigError("HOTSWAP_MODEL_ROOT is not set: point it at the model volume root")
    token = env.get("HOTSWAP_RELOAD_TOKEN") or _read_file(env.get("HOTSWAP_RELOAD_TOKEN_FILE"))
    return Config(
        model_root=Path(root),
        reload_token=token,
        admin_port=_int(env, "HOTSWAP_ADMIN_PORT", 8001),
        metrics_port=_int(env, "HOTSWAP_OPERATOR_METRICS_PORT", 9189),
        metrics_host=env.get("HOTSWAP_OPERATOR_METRICS_HOST", "0.0.0.0"),
        tick_seconds=_float(env, "HOTSWAP_OPERATOR_TICK_SECONDS", 1.0),
        signal_timeout=_float(env, "HOTSWAP_OPERATOR_SIGNAL_TIMEOUT", 10.0),
        prometheus_url=env.get("HOTSWAP_PROMETHEUS_URL") or None,
    )


def _read_file(path: str | None) -> str | None:
    if not path:
        return None
    return Path(path).read_text().strip() or None


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
