"""The live page `/static/monitoring.html` in headless Chromium, on a replica under live traffic.

Given a replica serving v1 with a sticky 20% canary of v2 under live load, when Chromium has
shown the page long enough for it to refresh a few times, then it shows both versions, the
weight, and request counts between the replica's own `GET /status` taken just before the
browser started and just after the page was read.
"""

from __future__ import annotations

from pathlib import Path

from hotswap.local import replicas, traffic

from . import browsers, fleets

REFRESHES = 3  # the page polls GET /status every 1.5 s
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"  # git-ignored


def page_url(pod: replicas.Replica) -> str:
    return f"http://{pod.host}:{pod.port}/static/monitoring.html"


def assert_between(seen: int, low: int, high: int, what: str) -> None:
    expected = f"{low}..{high} (GET /status before and after)"
    assert low <= seen <= high, f"{what}: expected {expected}, the page shows {seen}"


def test_dashboard_renders_the_live_canary_numbers(tmp_path: Path) -> None:
    with fleets.serving(tmp_path / "fleet", count=1) as fleet:
        fleets.send_traffic(fleet, requests=300)
        stable, canary = fleet.stable, fleets.set_canary(fleet, weight=20)
        pod = fleet.pods[0]
        with traffic.LiveTraffic(fleet.load(requests=50_000, seconds=90)):
            before = fleets.status_of(pod)
            with browsers.opened(page_url(pod)) as tab:
                refreshed = tab.wait_until(
                    f"Number(document.body.dataset.refreshes) >= {REFRESHES}"
                )
                page = browsers.Page(tab.html())
                after = fleets.status_of(pod)
                shot = tab.screenshot(tmp_path / "dashboard-monitoring.png")
        admin = pod.admin_status()
    print(f"\ndashboard screenshot: {shot}\n                 kept: {browsers.keep(shot, RESULTS)}")

    assert refreshed, f"expected {REFRESHES} live refreshes, the page shows {page.body}"
    assert page.text["health"] == "ready", page.text
    assert page.text["stable-version"] == stable, page.text
    assert page.text["canary-version"] == canary, page.text
    assert page.text["weight"] == "20", page.text
    assert page.text["generation"] == str(fleet.generation), page.text
    for version, arm in ((stable, "stable"), (canary, "canary")):
        shown = int(page.row(version, arm)["requests"])
        low, high = (fleets.requests_of(s, version, arm) for s in (before, after))
        assert shown > 0, f"expected requests on {arm} {version}, the page shows {shown}"
        assert_between(shown, low, high, f"requests of {arm} {version}")
        row = page.row(version, arm)
        assert row["rate"] and float(row["rate"]) > 0, f"expected live requests/s, shown: {row}"
        assert 0 < float(row["p50"]) <= float(row["p99"]), f"latency shown: {row}"
    assert admin["canary"]["digest"].startswith(after["canary"]["digest"]), (admin, after)
    assert len(after["canary"]["digest"]) < len(admin["canary"]["digest"]), after["canary"]
