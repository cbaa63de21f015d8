"""The usage rollups' totals as Prometheus counters: per tenant, method, result and reason,
and deliveries per tenant, kind and country; one read of the database serves every scrape
for 30 s, and the counters only grow as the rollups do."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from tests.support.metrics import Scrape, parse
from tests.support.usage import Written, write
from twostep.adapters.usage_metrics import TTL, UsageCollector
from twostep.bootstrap import App
from twostep.domain.usage import day_of
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob

pytestmark = pytest.mark.usefixtures("backend")

EVENTS = "twostep_usage_events_total"


class Ticks:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def _scrape(registry: CollectorRegistry) -> Scrape:
    return parse(generate_latest(registry).decode())


def test_the_rollups_totals_are_counters_read_at_most_every_ttl(app: App) -> None:
    default = app.admin.ensure_default_tenant()
    acme = app.admin.create_tenant(OPERATOR, "acme")
    now = app.deps.clock.now()
    write(
        app.storage,
        [
            Written(default.id, "default", now - 86400, "accept", "sms"),  # another day
            Written(default.id, "default", now, "accept", "sms"),
            Written(default.id, "default", now, "reject", None, "user_not_found"),
            Written(acme.id, "acme", now, "reject", "voice", "invalid_code"),
        ],
    )
    RollupJob(app.deps).run()
    with app.storage.transaction(write=True) as tx:
        tx.delivery_counts.add(acme.id, day_of(now), "sms", "DE", sent=3, failed=1, segments=4)
        tx.delivery_counts.add(acme.id, day_of(now) - 1, "sms", "DE", sent=1, failed=0, segments=2)
    ticks = Ticks()
    registry = CollectorRegistry()
    registry.register(UsageCollector(app.storage.engine, clock=ticks))

    first = _scrape(registry)
    assert first.families["twostep_usage_events"] == "counter"
    assert first.value(EVENTS, tenant="default", method="sms", result="accept") == 2
    assert first.value(EVENTS, tenant="default", method="none", reason="user_not_found") == 1
    assert first.value(EVENTS, tenant="acme", method="voice", reason="invalid_code") == 1
    assert first.value(EVENTS) == 4
    labels = {"tenant": "acme", "kind": "sms", "country": "DE"}
    assert first.value("twostep_usage_deliveries_total", **labels) == 4
    assert first.value("twostep_usage_delivery_failures_total", **labels) == 1
    assert first.value("twostep_usage_sms_segments_total", **labels) == 6

    write(app.storage, [Written(acme.id, "acme", now, "accept", "voice")])
    RollupJob(app.deps).run()
    ticks.value += TTL - 1
    assert _scrape(registry).value(EVENTS) == 4  # the read is reused
    ticks.value += 1
    again = _scrape(registry)
    assert again.value(EVENTS) == 5
    assert again.value(EVENTS, tenant="acme", method="voice", result="accept") == 1
