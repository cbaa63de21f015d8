"""The registry: kinds, what each can do, settings checks shared by every kind, secret
fields, building."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.domain.delivery import Capability, Channel, GatewayBuilder, GatewaySpecs
from twostep.domain.errors import InvalidSetting

REGISTRY = GatewayRegistry()
MINIMAL: dict[str, dict[str, Any]] = {
    "outbox": {"path": "/tmp/twostep-outbox.jsonl"},
    "http": {"url": "https://sms.example.net/send"},
    "smtp": {"host": "smtp.example.com", "from_address": "mfa@example.com"},
    "twilio": {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "token-1",
        "from_number": "+14155550100",
    },
}


def test_it_serves_the_specs_and_builds() -> None:
    specs: GatewaySpecs = REGISTRY
    builder: GatewayBuilder = REGISTRY
    assert specs.kinds() == frozenset({"outbox", "http", "smtp", "twilio"})
    assert callable(builder.build)


TEXTS, CALLS = Capability.TEXTS, Capability.CALLS
INBOUND, EVENTS = Capability.INBOUND_TEXTS, Capability.CALL_EVENTS


@pytest.mark.parametrize(
    ("kind", "can"),
    [
        ("outbox", {TEXTS, CALLS, INBOUND, EVENTS}),
        ("twilio", {TEXTS, CALLS, INBOUND, EVENTS}),
        ("http", {TEXTS, INBOUND}),
        ("smtp", {TEXTS}),
    ],
)
def test_what_each_kind_can_do(kind: str, can: set[Capability]) -> None:
    assert REGISTRY.capabilities(kind) == can
    gateway = REGISTRY.build(kind, f"{kind}-1", MINIMAL[kind])
    assert gateway.capabilities == can
    assert (gateway.calls is None) == (CALLS not in can)
    assert (gateway.inbound_texts is None) == (INBOUND not in can)
    assert (gateway.call_events is None) == (EVENTS not in can)


def test_secret_fields() -> None:
    assert REGISTRY.secret_fields("outbox") == {"webhook_secret"}
    assert REGISTRY.secret_fields("http") == {"headers", "password", "api_key", "webhook_secret"}
    assert REGISTRY.secret_fields("smtp") == {"password"}
    assert REGISTRY.secret_fields("twilio") == {"auth_token"}


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_minimal_settings_build(kind: str) -> None:
    checked = REGISTRY.check(kind, MINIMAL[kind])
    assert checked.items() >= MINIMAL[kind].items()
    gateway = REGISTRY.build(kind, f"{kind}-1", MINIMAL[kind])
    assert gateway.name == f"{kind}-1"
    assert gateway.texts is not None
    assert gateway.texts.channels <= {Channel.SMS, Channel.EMAIL}


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_unknown_keys_are_refused(kind: str) -> None:
    with pytest.raises(InvalidSetting, match="unknown") as caught:
        REGISTRY.check(kind, MINIMAL[kind] | {"colour": "blue"})
    assert caught.value.field == "colour"


@pytest.mark.parametrize(("kind", "key"), [(k, key) for k in MINIMAL for key in MINIMAL[k]])
def test_required_keys(kind: str, key: str) -> None:
    settings = {k: v for k, v in MINIMAL[kind].items() if k != key}
    with pytest.raises(InvalidSetting) as caught:
        REGISTRY.check(kind, settings)
    assert caught.value.field == key


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("outbox", "path", 3),
        ("outbox", "path", ""),
        ("http", "headers", ["Authorization: x"]),
        ("http", "headers", {"X-Count": 3}),
        ("http", "timeout", "5"),
        ("http", "timeout", True),
        ("http", "timeout", 61),
        ("http", "success_value", {"a": 1}),
        ("smtp", "port", "25"),
        ("smtp", "port", 70000),
        ("twilio", "auth_token", 123),
    ],
)
def test_wrong_types_and_ranges(kind: str, key: str, value: object) -> None:
    with pytest.raises(InvalidSetting) as caught:
        REGISTRY.check(kind, MINIMAL[kind] | {key: value})
    assert caught.value.field == key


def test_defaults_are_filled_and_not_shared() -> None:
    first = REGISTRY.check("http", MINIMAL["http"])
    assert (first["method"], first["body_format"], first["timeout"]) == ("POST", "json", 5.0)
    assert (first["inbound_from_field"], first["inbound_text_field"]) == ("from", "text")
    first["headers"]["X-Mutated"] = "yes"
    first["body"]["extra"] = "yes"
    second = REGISTRY.check("http", MINIMAL["http"])
    assert second["headers"] == {}
    assert second["body"] == {"to": "{to}", "text": "{text}"}


def test_an_integer_timeout_becomes_a_float() -> None:
    assert REGISTRY.check("smtp", MINIMAL["smtp"] | {"timeout": 3})["timeout"] == 3.0


def test_check_is_idempotent() -> None:
    for kind, settings in MINIMAL.items():
        once = REGISTRY.check(kind, settings)
        assert REGISTRY.check(kind, once) == once


def test_none_means_unset() -> None:
    checked = REGISTRY.check("http", MINIMAL["http"] | {"sender": None, "api_key": None})
    assert "sender" not in checked
    assert "api_key" not in checked


@pytest.mark.parametrize("call", ["check", "secret_fields", "build"])
def test_an_unknown_kind(call: str) -> None:
    with pytest.raises(InvalidSetting, match="unknown gateway kind 'pigeon'") as caught:
        if call == "check":
            REGISTRY.check("pigeon", {})
        elif call == "secret_fields":
            REGISTRY.secret_fields("pigeon")
        else:
            REGISTRY.build("pigeon", "p", {})
    assert caught.value.field == "kind"


def test_build_checks_the_settings(tmp_path: Path) -> None:
    with pytest.raises(InvalidSetting):
        REGISTRY.build("outbox", "dev", {"path": str(tmp_path / "o.jsonl"), "extra": 1})


def test_errors_never_echo_a_secret_value() -> None:
    with pytest.raises(InvalidSetting) as caught:
        REGISTRY.check("twilio", MINIMAL["twilio"] | {"account_sid": "sk-live-secretish"})
    assert "sk-live-secretish" not in caught.value.message
