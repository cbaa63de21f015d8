"""Reading a failed delivery's audited detail back into each gateway's error."""

from __future__ import annotations

from twostep.domain.ports.gateways import GatewayActivity, GatewayRecord
from twostep.services.gateway_health import errors_by_gateway, summarise

NAMES = {"main": 0, "spare": 1}


def test_each_gateway_tried_has_its_error() -> None:
    detail = "main: HTTP 503 from the provider; spare: timed out"
    assert errors_by_gateway(detail, NAMES) == {
        "main": "HTTP 503 from the provider",
        "spare": "timed out",
    }


def test_an_error_holding_a_separator_stays_whole() -> None:
    detail = "main: refused; retry later; spare: timed out"
    assert errors_by_gateway(detail, NAMES) == {
        "main": "refused; retry later",
        "spare": "timed out",
    }


def test_parts_naming_no_gateway_of_the_tenant_are_passed_over() -> None:
    detail = "no gateway of this tenant delivers voice; gone: deleted since"
    assert errors_by_gateway(detail, NAMES) == {}


def _record(name: str, position: int) -> GatewayRecord:
    return GatewayRecord(f"gw_{name}", 1, name, "http", position, {}, None, 0.0)


def test_the_newest_failure_is_the_last_error_and_the_outbox_only_when_used() -> None:
    activity = GatewayActivity(
        sent={"spare": (3, 50.0)},
        failed=[(40.0, "main: new error; spare: slow"), (30.0, "main: old error")],
    )
    report = summarise([_record("main", 0), _record("spare", 1)], activity, since=0.0)
    main, spare = report.gateways
    assert (main.failures, main.last_failure_at, main.last_error) == (2, 40.0, "new error")
    assert (spare.deliveries, spare.last_delivery_at, spare.failures) == (3, 50.0, 1)
    assert report.undelivered == 2
    none = summarise([], GatewayActivity(sent={}, failed=[]), since=0.0)
    assert [(g.name, g.position, g.deliveries) for g in none.gateways] == [("outbox", None, 0)]
