"""`current` switches atomically: a reader never sees it missing or half-written, nor
routing.json, through a thousand switches made as the operator makes them (routing.json, then
`current`); the reads that raced a switch are counted, so a pass is not a reader that missed
every switch."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotswap.store import routes, switching
from hotswap.store.errors import VersionNotFound
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, Publish

SWITCHES = 1000
MIN_RACED = 100  # reads during which a write was under way or landed
PAUSE = 0.0002  # seconds the writer rests after each write of every REST-th switch, so readers
REST = 10  # also find the files at rest, in both states


@dataclass
class Writes:
    """File writes the writer has begun and finished (ints: atomic under the GIL); two per
    switch, so an odd `landed` at rest means routing.json is new and `current` not yet."""

    begun: int = 0
    landed: int = 0

    def snapshot(self) -> tuple[int, int]:
        return self.begun, self.landed


@dataclass(frozen=True)
class Read:
    current: str | None
    routed: str  # routing.json's stable version
    raced: bool  # a write was under way or landed during the read
    landed: int  # writes landed when the read began: odd is between a switch's two writes

    @property
    def between(self) -> bool:
        return self.landed % 2 == 1

    @property
    def generation(self) -> int:
        """The switch under way (between) or last made (after): its routing generation."""
        return (self.landed + 1) // 2


def write(writes: Writes, step: Callable[[], None], *, rest: bool) -> None:
    writes.begun += 1
    step()
    writes.landed += 1
    if rest:
        time.sleep(PAUSE)


def switch(paths: ModelPaths, arm: routes.Arm, writes: Writes, *, generation: int) -> None:
    """One switch as the operator makes it: routing.json first, then `current`."""
    routing = routes.Routing(stable=arm, generation=generation)
    rest = generation % REST == 0
    write(writes, lambda: routes.write_routing(paths, routing), rest=rest)
    write(writes, lambda: switching.switch_current(paths, arm.version), rest=rest)


def read_both(paths: ModelPaths, writes: Writes) -> Read:
    """`current` (and a file through it), then routing.json, as a pod's poller reads them."""
    before = writes.snapshot()
    version = switching.read_current(paths)
    (paths.current / "MANIFEST.json").stat()
    routing = routes.read_routing(paths)
    assert routing is not None, "routing.json missing"
    raced = writes.snapshot() != before or before[0] != before[1]
    return Read(version, routing.stable.version, raced, landed=before[1])


def test_readers_see_both_files_whole_through_1000_switches(
    root: Path, publish: Publish, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a reader sees depends on rename order, not on fsync (durability across a power
    # loss, tested nowhere here): skipping it keeps 2,000 writes to a few seconds.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    paths = ModelPaths(root, MODEL)
    one, two = (routes.Arm(p.version, p.digest) for p in (publish(), publish()))
    writes = Writes()
    switch(paths, one, writes, generation=1)
    reads: list[Read] = []
    failures: list[str] = []
    done = threading.Event()

    def read_forever() -> None:
        while not done.is_set():
            try:
                reads.append(read_both(paths, writes))
            except Exception as exc:  # every failure is a finding
                failures.append(repr(exc))
            time.sleep(0)  # hand the GIL back: the writer, not the reader, sets the pace

    reader = threading.Thread(target=read_forever)
    reader.start()
    for i in range(SWITCHES):
        switch(paths, two if i % 2 == 0 else one, writes, generation=i + 2)
    done.set()
    reader.join()

    assert failures == [], f"reader saw {len(failures)} failures, first: {failures[:3]}"
    expect_reads_raced_and_ordered(reads, target=lambda g: (two if g % 2 == 0 else one).version)
    assert switching.read_current(paths) == one.version, "1,000 switches end where they began"
    assert routes.read_routing(paths) == routes.Routing(stable=one, generation=SWITCHES + 1)
    assert os.readlink(paths.current) == f"versions/{one.version}", "current must be relative"
    assert sorted(p.name for p in paths.dir.iterdir() if p.name.startswith(".current")) == []


def expect_reads_raced_and_ordered(reads: list[Read], *, target: Callable[[int], str]) -> None:
    """Enough reads raced a write, seeing both versions in each file; reads at rest saw both
    files at the switch's target after it, and between its two writes routing.json at the
    target and `current` not yet: `current` never runs ahead of routing.json."""
    both = {target(1), target(2)}
    raced = [read for read in reads if read.raced]
    after = [read for read in reads if not read.raced and not read.between]
    between = [read for read in reads if not read.raced and read.between]
    print(f"\n{len(reads)} reads: {len(raced)} raced a write, at rest {len(after)} after a "
          f"switch and {len(between)} between its two writes")  # fmt: skip
    assert len(raced) >= MIN_RACED, (
        f"expected at least {MIN_RACED} reads racing a write, saw {len(raced)} of {len(reads)}"
    )
    for name in ("current", "routed"):
        seen = {getattr(read, name) for read in raced}
        assert seen == both, f"{name}: expected both {both} seen during writes, saw {seen}"
    assert after and between, f"expected reads at rest in both states: {len(after)}, {len(between)}"
    wrong = [r for r in after if (r.routed, r.current) != (target(r.generation),) * 2]
    assert not wrong, f"after a switch, expected both files at its target, saw {wrong[:3]}"
    previous = [(r, (target(r.generation), target(r.generation - 1))) for r in between]
    wrong = [r for r, expected in previous if (r.routed, r.current) != expected]
    assert not wrong, f"between a switch's writes, expected new routing, old current: {wrong[:3]}"


def test_switch_refuses_an_unpublished_version(root: Path, publish: Publish) -> None:
    paths = ModelPaths(root, MODEL)
    serving = publish().version
    switching.switch_current(paths, serving)

    with pytest.raises(VersionNotFound, match="20990101_000000_deadbeef"):
        switching.switch_current(paths, "20990101_000000_deadbeef")
    assert switching.read_current(paths) == serving


def test_current_is_none_before_the_first_switch(root: Path) -> None:
    assert switching.read_current(ModelPaths(root, MODEL)) is None
