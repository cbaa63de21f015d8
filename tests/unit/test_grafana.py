"""contrib/grafana/twostep.json graphs only metrics Twostep exports, and every metric
Twostep exports is graphed (a renamed metric would leave an empty panel)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.metrics import parse
from twostep.adapters.metrics import PrometheusMetrics
from twostep.bootstrap import build
from twostep.config import Config

DASHBOARD = Path(__file__).resolve().parents[2] / "contrib" / "grafana" / "twostep.json"
SUFFIXES = ("", "_total", "_bucket", "_sum", "_count")


def _exported(config: Config) -> set[str]:
    """The family names a scrape of a wired app declares (pending challenges included),
    less the ``_created`` timestamps one process adds (multiprocess mode has none)."""
    metrics = PrometheusMetrics()
    app = build(config, metrics=metrics)
    try:
        families = parse(metrics.render()[0].decode()).families
        return {name for name in families if not name.endswith("_created")}
    finally:
        app.close()


def _exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _exprs(item)


def test_every_query_names_an_exported_metric_and_every_metric_is_graphed(
    config: Config,
) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = list(_exprs(dashboard))
    assert len(exprs) >= 10
    families = _exported(config)
    assert "twostep_pending_challenges" in families
    assert "twostep_validations" in families  # a counter's family drops _total
    names = {name + suffix for name in families for suffix in SUFFIXES}
    used = {m for expr in exprs for m in re.findall(r"\btwostep_[a-z_]+", expr)}
    assert used, exprs
    unknown = sorted(used - names)
    assert not unknown, f"the dashboard queries metrics Twostep does not export: {unknown}"
    graphed = {f for f in families if any(f + suffix in used for suffix in SUFFIXES)}
    assert graphed == families, f"not on the dashboard: {sorted(families - graphed)}"


def test_the_dashboard_is_importable_as_is() -> None:
    """Grafana's import needs these; the data source is picked at import (a variable)."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["title"] == "Twostep" and dashboard["uid"] == "twostep"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert [t["refId"] for t in panel["targets"]] == [
            chr(ord("A") + i) for i in range(len(panel["targets"]))
        ]
