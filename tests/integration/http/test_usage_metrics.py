"""``/metrics`` carries the usage report's figures (issue 15, item 5): the rollups' audit
events per tenant, method, result and reason, and deliveries per tenant, kind and country,
as counters read from the database (any node's events)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.support.fakes import FakeClock
from tests.support.metrics import TOKEN, bearer, parse
from tests.support.usage import Written, write
from twostep.adapters.metrics import PrometheusMetrics
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.usage import day_of
from twostep.interfaces.http.app import create_app
from twostep.services.rollups import RollupJob

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def counted(config: Config, clock: FakeClock) -> Iterator[App]:
    """The app as `serve` wires it when a metrics token is set."""
    server = config.server.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    wired = build(
        config.model_copy(update={"server": server}), clock=clock, metrics=PrometheusMetrics()
    )
    yield wired
    wired.close()


def test_a_scrape_reads_the_usage_rollups_as_counters(counted: App) -> None:
    tenant = counted.admin.ensure_default_tenant()
    now = counted.deps.clock.now()
    write(
        counted.storage,
        [
            Written(tenant.id, "default", now, "accept", "app_code"),
            Written(tenant.id, "default", now, "accept", "app_code"),
            Written(tenant.id, "default", now, "reject", "sms", "invalid_code"),
        ],
    )
    RollupJob(counted.deps).run()
    with counted.storage.transaction(write=True) as tx:
        tx.delivery_counts.add(tenant.id, day_of(now), "voice", "GB", sent=2, failed=0, segments=0)
    with TestClient(create_app(counted), raise_server_exceptions=False) as client:
        assert client.get("/metrics").status_code == 401
        answer = client.get("/metrics", headers=bearer())
    assert answer.status_code == 200
    scrape = parse(answer.text)
    assert scrape.families["twostep_usage_events"] == "counter"
    events = "twostep_usage_events_total"
    assert scrape.value(events, tenant="default", method="app_code", result="accept") == 2
    assert scrape.value(events, tenant="default", method="sms", reason="invalid_code") == 1
    voice = {"tenant": "default", "kind": "voice", "country": "GB"}
    assert scrape.value("twostep_usage_deliveries_total", **voice) == 2
    assert scrape.value("twostep_usage_delivery_failures_total", **voice) == 0
