"""Gateway settings under the one input rule: every string, at any depth (a body
template's keys and values, headers), refuses control characters; nesting is bounded."""

from __future__ import annotations

import pytest

from twostep.adapters.gateways.common import check_text_setting
from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.domain.errors import InvalidSetting


@pytest.mark.parametrize(
    ("kind", "settings", "field"),
    [
        ("outbox", {"path": "out\x00.jsonl"}, "path"),
        ("http", {"url": "https://sms.example.com/\r\nX: y"}, "url"),
        ("http", {"url": "https://sms.example.com", "body": {"to\x00": "{to}"}}, "body"),
        ("http", {"url": "https://sms.example.com", "headers": {"X-Key": "a\nb"}}, "headers"),
        ("twilio", {"account_sid": "AC\x7f", "auth_token": "t"}, "account_sid"),
    ],
)
def test_a_control_character_is_refused(kind: str, settings: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        GatewayRegistry().check(kind, settings)
    assert caught.value.field == field


def test_nesting_is_bounded() -> None:
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    with pytest.raises(InvalidSetting):
        check_text_setting("body", deep)
    check_text_setting("body", {"a": [{"b": "fine"}]})
