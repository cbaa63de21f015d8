"""Tenant settings under the one input rule: no control characters in any text setting or
list item, each calling code once and a bounded list, URLs of bounded length."""

from __future__ import annotations

import pytest

from twostep.domain.errors import InvalidSetting
from twostep.domain.settings import MAX_CALLING_CODES, TenantSettings


@pytest.mark.parametrize(
    "changes",
    [
        {"issuer": "Acme\x00"},
        {"push_message": "Sign-in\nfrom {client_ip}"},
        {"sms_sender": "Acme\x85"},
        {"language": "de\ud800"},
        {"alert_webhook_url": "https://hooks.example.com/\x1b"},
        {"allowed_calling_codes": ["1", "4\x004"]},
    ],
)
def test_a_control_character_in_any_text_setting_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidSetting) as caught:
        TenantSettings().updated(changes)
    assert caught.value.field == next(iter(changes))
    assert "control character" in caught.value.message


@pytest.mark.parametrize(
    "codes",
    [["44"] * 5000, ["1", "44", "1"], [str(n) for n in range(1, MAX_CALLING_CODES + 2)]],
)
def test_calling_codes_are_listed_once_and_bounded(codes: list[str]) -> None:
    with pytest.raises(InvalidSetting) as caught:
        TenantSettings().updated({"allowed_calling_codes": codes})
    assert caught.value.field == "allowed_calling_codes"


def test_a_full_list_of_distinct_codes_is_fine() -> None:
    codes = [str(n) for n in range(1, MAX_CALLING_CODES + 1)]
    assert TenantSettings().updated({"allowed_calling_codes": codes}).phone.allowed_calling_codes


def test_an_alert_url_is_bounded() -> None:
    with pytest.raises(InvalidSetting):
        TenantSettings().updated({"alert_webhook_url": "https://x.example/" + "a" * 2000})
