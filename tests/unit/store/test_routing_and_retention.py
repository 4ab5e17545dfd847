"""routing.json round-trips and validates; retention never removes a serving version."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotswap.store import retention, routes, switching, versions
from hotswap.store.errors import IntegrityError, VersionInUse
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, Publish


def arm(published: object) -> routes.Arm:
    return routes.Arm(published.version, published.digest)  # type: ignore[attr-defined]


def test_routing_round_trips_through_the_file(root: Path, publish: Publish) -> None:
    paths = ModelPaths(root, MODEL)
    declared = routes.Routing(
        stable=arm(publish()), canary=arm(publish()), weight=20, mirror_percent=5, generation=7
    )
    routes.write_routing(paths, declared)
    assert routes.read_routing(paths) == declared
    assert routes.read_routing(ModelPaths(root, "other")) is None


@pytest.mark.parametrize(
    ("field", "named", "value"),
    [("weight", "weight", 101), ("weight", "weight", -1), ("mirror_percent", "mirrorPercent", 200)],
)
def test_routing_refuses_out_of_range_percentages(
    publish: Publish, field: str, named: str, value: int
) -> None:
    published = publish()
    with pytest.raises(IntegrityError, match=named):
        routes.Routing(stable=arm(published), canary=arm(published), **{field: value})


def test_routing_refuses_weight_without_canary(publish: Publish) -> None:
    with pytest.raises(IntegrityError, match="no canary"):
        routes.Routing(stable=arm(publish()), weight=10)


def test_malformed_routing_file_names_the_problem(root: Path) -> None:
    paths = ModelPaths(root, MODEL)
    paths.dir.mkdir(parents=True)
    paths.routing.write_text('{"stable": {"version": "../x", "digest": "sha256:00"}}')
    with pytest.raises(IntegrityError, match=r"json is malformed: routing stable\.version"):
        routes.read_routing(paths)
    paths.routing.write_text('{"stable": ')
    with pytest.raises(IntegrityError, match=r"routing\.json is not valid JSON"):
        routes.read_routing(paths)


def test_garbage_collection_keeps_newest_and_serving_versions(root: Path, publish: Publish) -> None:
    paths = ModelPaths(root, MODEL)
    ids = [publish().version for _ in range(6)]
    switching.switch_current(paths, ids[0])
    routes.write_routing(
        paths,
        routes.Routing(stable=arm(_record(paths, ids[1])), canary=arm(_record(paths, ids[2]))),
    )

    removed = retention.collect_garbage(paths, keep=2)

    assert removed == [ids[3]], f"expected only {ids[3]} removed, saw {removed}"
    remaining = [r.version for r in versions.list_versions(paths)]
    assert remaining == [ids[0], ids[1], ids[2], ids[4], ids[5]]
    assert not paths.version(ids[3]).exists()


def test_removing_the_current_version_is_refused(root: Path, publish: Publish) -> None:
    paths = ModelPaths(root, MODEL)
    serving = publish().version
    switching.switch_current(paths, serving)
    with pytest.raises(VersionInUse, match="route traffic away"):
        retention.remove_version(paths, serving)
    assert paths.version(serving).is_dir()


def _record(paths: ModelPaths, version: str) -> versions.VersionRecord:
    return versions.get_version(paths, version)


def test_gc_command_keeps_serving_versions_and_reports_what_it_removed(
    root: Path, publish: Publish, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotswap.cli import main

    paths = ModelPaths(root, MODEL)
    ids = [publish().version for _ in range(4)]
    switching.switch_current(paths, ids[0])

    assert main(["gc", "--model", MODEL, "--keep", "1", "--root", str(root), "--dry-run"]) == 0
    assert f"would remove 2 version(s) of {MODEL}: {ids[1]} {ids[2]}" in capsys.readouterr().out
    assert len(versions.list_versions(paths)) == 4

    assert main(["gc", "--model", MODEL, "--keep", "1", "--root", str(root)]) == 0
    assert [r.version for r in versions.list_versions(paths)] == [ids[0], ids[3]]
    assert main(["gc", "--model", MODEL, "--keep", "0", "--root", str(root)]) == 2
