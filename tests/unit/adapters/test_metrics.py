"""The metrics adapter: every label value is a known word, and what it counts reads back
through prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.metrics import parse
from twostep.adapters import metrics as metrics_module
from twostep.adapters.metrics import PrometheusMetrics
from twostep.adapters.storage.engine import make_engine
from twostep.config import Config
from twostep.domain.audit import AuditEvent
from twostep.domain.errors import InvalidSetting


def _event(**fields: object) -> AuditEvent:
    base: dict[str, object] = {
        "event_id": "e",
        "at": 0.0,
        "tenant": "default",
        "user": "alice",
        "method": "app_code",
        "result": "accept",
        "reason": None,
        "integration": "web",
        "server_name": "node-a",
        "server_ip": None,
    }
    return AuditEvent(**{**base, **fields})  # type: ignore[arg-type]


def test_an_event_is_counted_by_result_reason_method_and_interface() -> None:
    metrics = PrometheusMetrics()
    metrics.audited(_event())
    metrics.audited(_event(result="reject", reason="invalid_code", interface="radius"))
    metrics.audited(_event(result="reject", reason="invalid_code", interface="radius"))
    scrape = parse(metrics.render()[0].decode())
    assert scrape.families["twostep_validations"] == "counter"
    name = "twostep_validations_total"
    assert scrape.value(name, result="accept", reason="none", interface="http") == 1
    assert scrape.value(name, result="reject", reason="invalid_code", method="app_code") == 2
    assert scrape.value(name) == 3


def test_a_value_outside_the_known_words_is_counted_as_other() -> None:
    """A user name, an address or a typo never becomes a label value."""
    metrics = PrometheusMetrics()
    metrics.audited(_event(method="alice@example.com", interface="10.0.0.1", reason="x" * 40))
    metrics.delivered("my-gateway-name", "pager", ok=True)
    metrics.locked("because")
    metrics.radius_drop("anything")
    metrics.http_request("/v1/tenants/default/users/alice", 0.01)
    scrape = parse(metrics.render()[0].decode())
    labels = {
        value
        for _name, got, _value in scrape.samples
        for key, value in got.items()
        if key not in ("le", "result")
    }
    assert labels == {"other"}


def test_a_fraud_report_is_also_counted_on_its_own() -> None:
    metrics = PrometheusMetrics()
    metrics.audited(_event(result="reject", reason="fraud_reported", method="app_push"))
    metrics.audited(_event(result="reject", reason="denied", method="app_push"))
    scrape = parse(metrics.render()[0].decode())
    assert scrape.value("twostep_fraud_reports_total") == 1
    assert scrape.value("twostep_validations_total", method="app_push") == 2


def test_deliveries_and_failures_by_gateway_kind_and_channel() -> None:
    metrics = PrometheusMetrics()
    metrics.delivered("twilio", "sms", ok=False)
    metrics.delivered("outbox", "sms", ok=True)
    metrics.delivered("smtp", "email", ok=True)
    scrape = parse(metrics.render()[0].decode())
    assert scrape.value("twostep_delivery_failures_total", gateway="twilio", channel="sms") == 1
    assert scrape.value("twostep_deliveries_total", gateway="outbox", channel="sms") == 1
    assert scrape.value("twostep_deliveries_total", gateway="smtp", channel="email") == 1
    assert scrape.value("twostep_deliveries_total", gateway="twilio") == 0


def test_radius_replies_by_code_and_their_latency() -> None:
    metrics = PrometheusMetrics()
    metrics.radius_reply(bytes([2]) + bytes(19), started=None)  # a duplicate's cached reply
    metrics.radius_reply(bytes([11]) + bytes(19), started=0.0)
    metrics.radius_reply(bytes([3]) + bytes(19), started=0.0)
    scrape = parse(metrics.render()[0].decode())
    answered = "twostep_radius_packets_answered_total"
    assert {c: scrape.value(answered, code=c) for c in ("accept", "challenge", "reject")} == {
        "accept": 1,
        "challenge": 1,
        "reject": 1,
    }
    assert scrape.value("twostep_radius_request_duration_seconds_count") == 2


def test_multiprocess_mode_refuses_a_library_loaded_too_early(tmp_path: Path) -> None:
    """This process loaded prometheus_client without PROMETHEUS_MULTIPROC_DIR: its values
    live in memory, so workers' values would never add up. Said, not silently wrong."""
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR"):
        PrometheusMetrics(str(tmp_path))


def test_the_pool_is_sampled_at_most_once_a_second_as_requests_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    metrics = PrometheusMetrics()
    metrics.watch_pool(engine)
    now = [1000.0]
    monkeypatch.setattr(metrics_module.time, "monotonic", lambda: now[0])

    def gauges() -> tuple[float, float]:
        scrape = parse(metrics.render()[0].decode())
        return scrape.value("twostep_db_pool_checked_out"), scrape.value("twostep_db_pool_size")

    try:
        with engine.connect(), engine.connect():
            metrics.http_request("validate", 0.002)
            assert gauges() == (2, 2)
        metrics.http_request("validate", 0.002)  # within the second: not sampled again
        assert gauges() == (2, 2)
        now[0] += 1.0
        metrics.radius_reply(bytes([2]) + bytes(19), started=None)
        assert gauges() == (0, 2)  # both back in the pool, still open
    finally:
        engine.dispose()


def test_the_metrics_token_is_a_secret_of_16_characters_or_more() -> None:
    assert Config.load({}).server.metrics_token is None  # no token: no metrics
    assert Config.load({"TWOSTEP_METRICS_TOKEN": ""}).server.metrics_token is None
    token = "t" * 16
    config = Config.load({"TWOSTEP_METRICS_TOKEN": token})
    assert config.server.metrics_token is not None
    assert config.server.metrics_token.get_secret_value() == token
    assert token not in repr(config)
    with pytest.raises(InvalidSetting) as refused:
        Config.load({"TWOSTEP_METRICS_TOKEN": "short-token"})
    assert "TWOSTEP_METRICS_TOKEN" in refused.value.message
    assert "short-token" not in refused.value.message  # a secret is never echoed
