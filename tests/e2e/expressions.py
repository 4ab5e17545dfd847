"""Every PromQL expression the project ships: the alert rules and the Grafana dashboard's panels.

Grafana's variables are replaced the way Grafana would for this test: `$model` by the demo's
model, `$__rate_interval` by a window that holds many 1 s scrapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
RULES = MONITORING / "alerts.rules.yaml"
DASHBOARD = MONITORING / "grafana" / "hotswap.json"
RATE_INTERVAL = "20s"


@dataclass(frozen=True)
class Expression:
    kind: str  # "alert" or "panel"
    name: str  # the alert's name or the panel's title
    expr: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}:{self.expr[:40]}"


def alert_expressions(path: Path = RULES) -> list[Expression]:
    groups = yaml.safe_load(path.read_text())["groups"]
    return [
        Expression("alert", rule["alert"], " ".join(str(rule["expr"]).split()))
        for group in groups
        for rule in group["rules"]
    ]


def panel_expressions(model: str, path: Path = DASHBOARD) -> list[Expression]:
    dashboard = json.loads(path.read_text())
    return [
        Expression("panel", panel["title"], substitute(target["expr"], model=model))
        for panel in walk_panels(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def named(shipped: list[Expression], name: str) -> str:
    """The (first) expression of the alert or panel called `name`."""
    found = [e.expr for e in shipped if e.name == name]
    assert found, f"no alert or panel named {name!r} in {RULES.name} or {DASHBOARD.name}"
    return found[0]


def walk_panels(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in node.get("panels", []):
        yield panel
        yield from walk_panels(panel)


def substitute(expr: str, *, model: str) -> str:
    return expr.replace("$__rate_interval", RATE_INTERVAL).replace("$model", model)


def template_metrics(path: Path = DASHBOARD) -> list[str]:
    """The metrics of the dashboard's `label_values(<metric>, <label>)` variables."""
    variables = json.loads(path.read_text()).get("templating", {}).get("list", [])
    definitions = [v.get("definition", "") for v in variables if v.get("type") == "query"]
    return [d.removeprefix("label_values(").split(",")[0].strip() for d in definitions]
