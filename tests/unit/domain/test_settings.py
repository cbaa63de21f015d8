"""Tenant settings: defaults, allowed ranges, types, unknown keys, and the audit fields."""

from __future__ import annotations

from typing import Any

import pytest

from twostep.domain.errors import InvalidInput, InvalidSetting
from twostep.domain.settings import AUDIT_OPTIONAL_FIELDS, TenantSettings

DEFAULTS = {
    "issuer": "Twostep",
    "totp_window": 1,
    "hotp_lookahead": 10,
    "hotp_resync_window": 100,
    "max_failures": 10,
    "lockout_seconds": 900,
    "app_code_algorithm": "SHA1",
    "app_code_digits": 6,
    "app_code_period": 30,
    "pending_method_seconds": 600,
    "audit_fields": ["first_name", "last_name", "email", "phone", "device", "client_ip"],
    "sms_code_timeout": 300,
    "sms_reply_timeout": 60,
    "voice_timeout": 120,
    "challenge_attempts": 3,
    "resend_interval": 30,
    "max_sends": 3,
    "delivery_window": 3600,
    "user_delivery_limit": 10,
    "tenant_delivery_limit": 1000,
    "allowed_calling_codes": [],
    "sms_sender": "",
    "caller_id": "",
    "voice_pin_required": False,
    "fraud_alert_enabled": True,
    "fraud_blocks_user": True,
    "fraud_block_seconds": 90 * 24 * 3600,
    "voice_pin_attempts": 1,
    "fraud_code": "0",
    "fraud_notify_emails": [],
    "not_me_locks_user": False,
    "language": "en",
    "push_timeout": 60,
    "push_message": "Sign-in to {integration} from {client_ip}",
    "push_max_pending": 3,
    "push_user_limit": 10,
    "push_pause_after": 3,
    "push_pause_seconds": 600,
    "activation_seconds": 600,
    "alert_webhook_url": "",
    "email_code_timeout": 300,
    "email_sender": "",
    "disabled_kinds": [],
    "app_passwords_allowed": False,
    "registration_groups": [],
    "password_registration": True,
    "registration_kinds": [],
    "page_idle_seconds": 900,
    "page_session_seconds": 8 * 3600,
    "enrollment_link_seconds": 7 * 24 * 3600,
    "remember_device_enabled": False,
    "remember_device_days": 14,
    "trusted_networks_enabled": False,
    "trusted_networks": [],
}

# name, lowest allowed, highest allowed
RANGES = [
    ("totp_window", 0, 10),
    ("hotp_lookahead", 0, 100),
    ("hotp_resync_window", 2, 10_000),
    ("max_failures", 1, 100),
    ("lockout_seconds", 0, 30 * 24 * 3600),
    ("pending_method_seconds", 60, 7 * 24 * 3600),
    ("sms_code_timeout", 60, 3600),
    ("sms_reply_timeout", 30, 600),
    ("voice_timeout", 30, 600),
    ("challenge_attempts", 1, 10),
    ("resend_interval", 10, 600),
    ("max_sends", 1, 5),
    ("delivery_window", 60, 7 * 24 * 3600),
    ("user_delivery_limit", 1, 1000),
    ("tenant_delivery_limit", 1, 10_000_000),
    ("push_timeout", 15, 600),
    ("push_max_pending", 1, 10),
    ("push_user_limit", 1, 100),
    ("push_pause_after", 1, 100),
    ("push_pause_seconds", 0, 86400),
    ("activation_seconds", 60, 7 * 24 * 3600),
    ("page_idle_seconds", 60, 24 * 3600),
    ("page_session_seconds", 300, 7 * 24 * 3600),
    ("enrollment_link_seconds", 3600, 30 * 24 * 3600),
    ("email_code_timeout", 60, 3600),
    ("fraud_block_seconds", 0, 366 * 24 * 3600),
    ("voice_pin_attempts", 1, 5),
    ("remember_device_days", 1, 60),
]


def refused(changes: dict[str, Any]) -> InvalidSetting:
    with pytest.raises(InvalidSetting) as caught:
        TenantSettings.from_dict(changes)
    return caught.value


class TestDefaults:
    def test_the_defaults(self) -> None:
        assert TenantSettings().to_dict() == DEFAULTS

    def test_an_empty_dict_gives_the_defaults(self) -> None:
        assert TenantSettings.from_dict({}) == TenantSettings()

    def test_to_dict_and_from_dict_round_trip(self) -> None:
        custom = TenantSettings(
            issuer="Acme Corp",
            max_failures=3,
            app_code_algorithm="SHA256",
            app_code_digits=8,
            app_code_period=60,
            audit_fields=("email",),
        )
        assert TenantSettings.from_dict(custom.to_dict()) == custom

    def test_to_dict_gives_json_types(self) -> None:
        assert isinstance(TenantSettings().to_dict()["audit_fields"], list)

    def test_updated_changes_only_what_it_is_given(self) -> None:
        before = TenantSettings(max_failures=3)
        after = before.updated({"lockout_seconds": 60})
        assert (after.lockout.max_failures, after.lockout.lockout_seconds) == (3, 60)
        assert before.lockout.lockout_seconds == 900  # settings are immutable values


class TestRanges:
    @pytest.mark.parametrize(("name", "low", "high"), RANGES)
    def test_both_ends_of_the_range_are_allowed(self, name: str, low: int, high: int) -> None:
        assert TenantSettings.from_dict({name: low}).to_dict()[name] == low
        assert TenantSettings.from_dict({name: high}).to_dict()[name] == high

    @pytest.mark.parametrize(("name", "low", "high"), RANGES)
    def test_one_past_either_end_is_refused(self, name: str, low: int, high: int) -> None:
        for value in (low - 1, high + 1):
            error = refused({name: value})
            assert error.field == name
            assert f"from {low} to {high}" in error.message

    @pytest.mark.parametrize(("name", "low", "high"), RANGES)
    def test_the_constructor_checks_the_range_too(self, name: str, low: int, high: int) -> None:
        too_high: dict[str, Any] = {name: high + 1}
        with pytest.raises(InvalidSetting):
            TenantSettings(**too_high)

    def test_max_failures_is_one_to_a_hundred(self) -> None:
        assert TenantSettings.from_dict({"max_failures": 1}).lockout.max_failures == 1
        assert TenantSettings.from_dict({"max_failures": 100}).lockout.max_failures == 100
        assert refused({"max_failures": 0}).field == "max_failures"
        assert refused({"max_failures": 101}).field == "max_failures"
        assert refused({"max_failures": -1}).field == "max_failures"

    def test_lockout_zero_means_until_an_admin_unlocks(self) -> None:
        assert TenantSettings.from_dict({"lockout_seconds": 0}).lockout.lockout_seconds == 0

    @pytest.mark.parametrize("digits", [6, 8])
    def test_app_code_digits_six_or_eight(self, digits: int) -> None:
        assert TenantSettings.from_dict({"app_code_digits": digits}).otp.app_code_digits == digits

    @pytest.mark.parametrize("digits", [5, 7, 9, 10])
    def test_other_app_code_digits_are_refused(self, digits: int) -> None:
        assert refused({"app_code_digits": digits}).field == "app_code_digits"

    @pytest.mark.parametrize("period", [30, 60])
    def test_app_code_period_thirty_or_sixty(self, period: int) -> None:
        assert TenantSettings.from_dict({"app_code_period": period}).otp.app_code_period == period

    @pytest.mark.parametrize("period", [0, 15, 45, 90, -30])
    def test_other_app_code_periods_are_refused(self, period: int) -> None:
        assert refused({"app_code_period": period}).field == "app_code_period"

    @pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
    def test_the_three_app_code_algorithms(self, algorithm: str) -> None:
        settings = TenantSettings.from_dict({"app_code_algorithm": algorithm})
        assert settings.otp.app_code_algorithm == algorithm

    @pytest.mark.parametrize("algorithm", ["sha1", "MD5", "SHA384", ""])
    def test_other_app_code_algorithms_are_refused(self, algorithm: str) -> None:
        assert refused({"app_code_algorithm": algorithm}).field == "app_code_algorithm"

    @pytest.mark.parametrize("issuer", ["A", "Acme Corp", "x" * 64, "S\u00e9curit\u00e9 & Co"])
    def test_issuers_of_one_to_64_characters(self, issuer: str) -> None:
        assert TenantSettings.from_dict({"issuer": issuer}).issuer == issuer

    @pytest.mark.parametrize("issuer", ["", "x" * 65, "Acme:Corp", ":"])
    def test_empty_long_or_colon_issuers_are_refused(self, issuer: str) -> None:
        # A colon would split the authenticator app's "Issuer:account" label in the wrong place.
        assert refused({"issuer": issuer}).field == "issuer"


class TestTypes:
    @pytest.mark.parametrize(
        "name",
        ["totp_window", "max_failures", "lockout_seconds", "app_code_digits", "app_code_period"],
    )
    @pytest.mark.parametrize("value", [True, False])
    def test_booleans_are_not_integers_here(self, name: str, value: bool) -> None:
        assert refused({name: value}).field == name

    @pytest.mark.parametrize("value", ["5", 5.0, 5.5, None, [5], {"n": 5}])
    def test_integers_must_be_integers(self, value: object) -> None:
        assert refused({"max_failures": value}).field == "max_failures"

    @pytest.mark.parametrize("value", [30.0, "30"])
    def test_a_period_must_be_an_integer(self, value: object) -> None:
        assert refused({"app_code_period": value}).field == "app_code_period"

    @pytest.mark.parametrize("value", [1, None, True, b"Acme", ["Acme"]])
    def test_strings_must_be_strings(self, value: object) -> None:
        assert refused({"issuer": value}).field == "issuer"
        assert refused({"app_code_algorithm": value}).field == "app_code_algorithm"

    def test_booleans_are_refused_by_the_constructor_too(self) -> None:
        with pytest.raises(InvalidSetting):
            TenantSettings(max_failures=True)


class TestUnknownKeys:
    @pytest.mark.parametrize("key", ["max_failure", "MAX_FAILURES", "", "secret_key"])
    def test_an_unknown_key_is_an_error_naming_it(self, key: str) -> None:
        error = refused({key: 5})
        assert error.field == key
        assert repr(key) in error.message

    def test_one_unknown_key_spoils_the_whole_change(self) -> None:
        before = TenantSettings()
        with pytest.raises(InvalidSetting):
            before.updated({"max_failures": 3, "colour": "blue"})
        assert before.lockout.max_failures == 10

    def test_invalid_setting_is_an_invalid_input_with_a_stable_code(self) -> None:
        error = refused({"nope": 1})
        assert isinstance(error, InvalidInput)
        assert error.code == "invalid_setting"


class TestAuditFields:
    def test_every_optional_field_is_logged_by_default(self) -> None:
        assert TenantSettings().audit.audit_fields == AUDIT_OPTIONAL_FIELDS

    def test_a_subset_is_kept_as_a_tuple(self) -> None:
        settings = TenantSettings.from_dict({"audit_fields": ["email", "client_ip"]})
        assert settings.audit.audit_fields == ("email", "client_ip")

    def test_no_optional_fields_at_all(self) -> None:
        assert TenantSettings.from_dict({"audit_fields": []}).audit.audit_fields == ()

    @pytest.mark.parametrize("fields", [["password"], ["email", "seed"], ["Email"]])
    def test_unknown_audit_fields_are_refused_by_name(self, fields: list[str]) -> None:
        error = refused({"audit_fields": fields})
        assert error.field == "audit_fields"
        unknown = sorted(set(fields) - set(AUDIT_OPTIONAL_FIELDS))
        assert ", ".join(unknown) in error.message

    @pytest.mark.parametrize("value", ["email", None, 1, [1], ["email", None], {"email": True}])
    def test_audit_fields_must_be_a_list_of_strings(self, value: object) -> None:
        error = refused({"audit_fields": value})
        assert error.field == "audit_fields"


def test_the_issuer_must_be_printable() -> None:
    with pytest.raises(InvalidSetting):
        TenantSettings(issuer="Acme\nCorp")


def test_an_audit_field_may_be_listed_once() -> None:
    with pytest.raises(InvalidSetting):
        TenantSettings.from_dict({"audit_fields": ["email", "email"]})


class TestFraudSettings:
    """MFA Server's defaults: fraud reports on, a 90-day block, the fraud code 0."""

    @pytest.mark.parametrize("code", ["0", "5", "9"])
    def test_the_fraud_code_is_one_digit(self, code: str) -> None:
        assert TenantSettings(fraud_code=code).phone.fraud_code == code

    @pytest.mark.parametrize("code", ["", "00", "#", "*", "a", "\u0661"])
    def test_other_fraud_codes_are_refused(self, code: str) -> None:
        assert refused({"fraud_code": code}).field == "fraud_code"

    def test_admins_to_email_are_a_list_of_addresses(self) -> None:
        settings = TenantSettings(fraud_notify_emails=["sec@example.com", "it@example.org"])
        assert settings.audit.fraud_notify_emails == ("sec@example.com", "it@example.org")

    @pytest.mark.parametrize(
        "addresses",
        [
            ["not an address"],
            ["a@b"],
            ["a@example.com, b@example.com"],
            ["a@example.com", "A@example.com"],
            [f"a{i}@example.com" for i in range(21)],
            ["x" * 250 + "@example.com"],
        ],
    )
    def test_bad_or_too_many_addresses_are_refused(self, addresses: list[str]) -> None:
        assert refused({"fraud_notify_emails": addresses}).field == "fraud_notify_emails"

    def test_a_two_way_sms_reply_is_waited_for_at_most_ten_minutes(self) -> None:
        assert refused({"sms_reply_timeout": 601}).field == "sms_reply_timeout"
