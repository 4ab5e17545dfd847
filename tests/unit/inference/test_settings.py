"""Settings: environment variables, flags of `hotswap serve` over them, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from hotswap_inference import flags, settings

from hotswap.cli import build_parser


def test_flags_of_hotswap_serve_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTSWAP_PORT", "7000")
    monkeypatch.setenv("HOTSWAP_MAX_BATCH", "9")
    monkeypatch.setenv("HOTSWAP_RELOAD_TOKEN", "secret")
    args = build_parser(["serve"]).parse_args(["serve", "--root", "/vol", "--port", "7100"])
    chosen = flags.settings_from_args(args)
    seen = (chosen.model_root, chosen.port, chosen.limits.max_batch, chosen.token())
    assert seen == (Path("/vol"), 7100, 9, "secret"), f"saw {seen}"
    assert (chosen.host, chosen.admin_port, chosen.metrics_port) == ("127.0.0.1", 8001, 9189)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"HOTSWAP_PORT": "eighty"}, "HOTSWAP_PORT"),
        ({"HOTSWAP_MAX_BATCH": "0"}, "HOTSWAP_MAX_BATCH must be positive"),
        ({"HOTSWAP_QUERY_LOG_STDOUT": "maybe"}, "HOTSWAP_QUERY_LOG_STDOUT"),
        ({"HOTSWAP_RATE_LIMIT": "-1"}, "HOTSWAP_RATE_LIMIT"),
        ({"HOTSWAP_ADMIN_PORT": "70000"}, "HOTSWAP_ADMIN_PORT must be a TCP port 0-65535"),
        (
            {"HOTSWAP_PORT": "9000", "HOTSWAP_METRICS_PORT": "9000"},
            "HOTSWAP_PORT and HOTSWAP_METRICS_PORT are both 9000: give each server its own port",
        ),
        ({"HOTSWAP_ADMIN_PORT": "9189"}, "HOTSWAP_ADMIN_PORT and HOTSWAP_METRICS_PORT are both"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], words: str) -> None:
    with pytest.raises(settings.SettingsError) as caught:
        settings.load_settings(environ=env)
    assert words in str(caught.value), f"expected {words!r} in {caught.value}"


def test_api_keys_come_from_env_and_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# comment\nfile-key\n\n")
    env = {"HOTSWAP_API_KEYS": "a, b", "HOTSWAP_API_KEYS_FILE": str(keys)}
    assert settings.load_settings(environ=env).keys() == ("a", "b", "file-key")


def test_distinct_ports_and_any_free_port_twice_are_accepted() -> None:
    """The twin of the refusals above: 0 (any free port) may repeat, distinct ports pass."""
    for env in ({"HOTSWAP_PORT": "0", "HOTSWAP_ADMIN_PORT": "0"}, {"HOTSWAP_PORT": "9190"}):
        chosen = settings.load_settings(environ=env)
        ports = (chosen.port, chosen.admin_port, chosen.metrics_port)
        assert ports[:1] == (int(env["HOTSWAP_PORT"]),), ports
