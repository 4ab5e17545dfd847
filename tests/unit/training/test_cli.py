"""`hotswap train` and `hotswap versions` end to end through `hotswap.cli.main`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hotswap import cli
from hotswap.store import layout, routes, switching, versions


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_summary_and_an_applicable_model_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "train", "--root", str(tmp_path), "--seed", "2")
    assert code == 0, err
    resource = yaml.safe_load(out)  # the summary lines are YAML comments
    assert resource["kind"] == "ModelVersion", out
    record = versions.list_versions(layout.ModelPaths(tmp_path, "intent"))[0]
    assert resource["spec"]["version"] == record.version
    assert resource["spec"]["digest"] == record.digest
    assert f"# trained intent version {record.version}" in out
    assert f"accuracy {record.metrics['accuracy']:.4f}" in out


def test_manifest_out_writes_the_yaml_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mv.yaml"
    argv = ["train", "--root", str(tmp_path / "models"), "--manifest-out", str(target)]
    code, out, err = run(capsys, *argv, "--estimator", "random-forest", "--format", "skops")
    assert code == 0, err
    resource = yaml.safe_load(target.read_text())
    assert resource["spec"]["model"] == "iris" and resource["spec"]["format"] == "skops"
    assert "apiVersion" not in out, f"the YAML went to {target}, not stdout: {out}"


def test_versions_lists_each_version_and_what_it_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for seed in ("0", "1"):
        assert run(capsys, "train", "--root", str(tmp_path), "--seed", seed)[0] == 0
    paths = layout.ModelPaths(tmp_path, "intent")
    old, new = versions.list_versions(paths)
    switching.switch_current(paths, old.version)
    routing = routes.Routing(
        stable=routes.Arm(old.version, old.digest),
        canary=routes.Arm(new.version, new.digest),
        weight=20,
    )
    routes.write_routing(paths, routing)
    code, out, err = run(capsys, "versions", "--root", str(tmp_path), "--model", "intent")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split()[:2] == ["MODEL", "VERSION"], out
    assert rows[0].startswith("intent") and old.version in rows[0], out
    assert rows[0].endswith("current,stable"), out
    assert rows[1].endswith("canary 20%"), out
    assert old.digest.removeprefix("sha256:")[:12] in rows[0], out


def test_root_defaults_to_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTSWAP_MODEL_ROOT", str(tmp_path))
    assert run(capsys, "train", "--estimator", "random-forest")[0] == 0
    code, out, _ = run(capsys, "versions")
    assert code == 0 and "iris" in out, out
    assert len(out.splitlines()) == 2, f"expected a header and one row, saw {out}"


def test_missing_data_file_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.csv"
    code, _, err = run(capsys, "train", "--root", str(tmp_path), "--data", str(missing))
    assert code == 2, f"expected exit 2, saw {code}"
    assert str(missing) in err and "does not exist" in err, err


def test_bad_model_name_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "train", "--root", str(tmp_path), "--model", "Bad_Name")
    assert code == 2 and "DNS label" in err, err
    assert not (tmp_path / "Bad_Name").exists()


def test_versions_of_an_unknown_model_says_how_to_publish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "versions", "--root", str(tmp_path), "--model", "intent")
    assert code == 0 and "hotswap train" in out, out


def test_unreadable_registry_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "intent").mkdir()
    (tmp_path / "intent" / "versions.json").write_text('{"versions": [')
    code, _, err = run(capsys, "versions", "--root", str(tmp_path))
    assert code == 2 and err.startswith("hotswap: "), f"expected exit 2 and a message, saw {err}"
