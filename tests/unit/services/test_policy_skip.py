"""The policy's skip step: a vouched client address in a trusted network, or an open
one-time bypass, ends the sign-in without a second factor, and only after the user's
standing (lock, re-registration asked, the registration policy) allowed it."""

from __future__ import annotations

from typing import Any

import pytest

from twostep.domain.entities import (
    Integration,
    Method,
    MethodKind,
    MethodStatus,
    MfaState,
    Tenant,
    User,
)
from twostep.domain.ports.subjects import Subject
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.services.policy import Offer, Skip, second_factor, skip

NOW = 1_800_000_000.0
TRUSTED = {"trusted_networks_enabled": True, "trusted_networks": ["10.0.0.0/8", "2001:db8::/32"]}
APP = Method(id="app", user_id=1, kind=MethodKind.APP_CODE, status=MethodStatus.ACTIVE)
VOUCHING = Integration(1, 1, "web", "k", 0.0, trusted_client_addresses=True)
PLAIN = Integration(2, 1, "other", "k2", 0.0)


def subject(*methods: Method, settings: dict[str, Any] | None = None, **user: Any) -> Subject:
    tenant = Tenant(1, "default", TenantSettings(**(settings or {})))
    person = User(id=1, tenant_id=1, name="alice", **{"mfa": MfaState.ENFORCED, **user})
    return Subject(tenant, person, methods, {})


def reason(found: Decision | Offer) -> Reason | None:
    assert isinstance(found, Decision), found
    return found.reason


class TestTrustedNetwork:
    def test_a_vouched_address_inside_a_trusted_network_is_accepted_with_its_block(self) -> None:
        who = subject(APP, settings=TRUSTED)
        found = skip(who, VOUCHING, "10.20.30.40", NOW)
        assert found == Skip(Decision(Result.ACCEPT, Reason.TRUSTED_NETWORK), "10.0.0.0/8")
        assert reason(second_factor(who, NOW, None, False, found)) is Reason.TRUSTED_NETWORK

    def test_ipv6_addresses_meet_ipv6_blocks(self) -> None:
        found = skip(subject(APP, settings=TRUSTED), VOUCHING, "2001:db8:1::9", NOW)
        assert found is not None and found.detail == "2001:db8::/32"

    @pytest.mark.parametrize(
        ("integration", "address", "settings"),
        [
            (PLAIN, "10.20.30.40", TRUSTED),  # an unflagged integration's address: recorded only
            (VOUCHING, "192.0.2.1", TRUSTED),  # outside every block
            (VOUCHING, None, TRUSTED),  # no address sent
            (VOUCHING, "10.20.30.40", {**TRUSTED, "trusted_networks_enabled": False}),
            (VOUCHING, "10.20.30.40", {"trusted_networks_enabled": True}),  # no blocks
        ],
    )
    def test_nothing_is_skipped_otherwise(
        self, integration: Integration, address: str | None, settings: dict[str, Any]
    ) -> None:
        assert skip(subject(APP, settings=settings), integration, address, NOW) is None

    def test_a_trusted_network_is_preferred_to_spending_a_bypass(self) -> None:
        who = subject(APP, settings=TRUSTED, bypass_until=NOW + 60)
        found = skip(who, VOUCHING, "10.1.1.1", NOW)
        assert found is not None and found.decision.reason is Reason.TRUSTED_NETWORK


class TestBypass:
    def test_an_open_bypass_is_offered_to_the_flow_to_claim(self) -> None:
        who = subject(APP, bypass_until=NOW + 1)
        found = skip(who, PLAIN, None, NOW)
        assert found == Skip(Decision(Result.ACCEPT, Reason.BYPASS))

    def test_a_bypass_whose_window_ended_is_not(self) -> None:
        assert skip(subject(APP, bypass_until=NOW), PLAIN, None, NOW) is None

    def test_a_bypass_works_for_a_user_with_nothing_registered(self) -> None:
        who = subject(bypass_until=NOW + 60)
        assert reason(second_factor(who, NOW, None, False, skip(who, PLAIN, None, NOW))) is (
            Reason.BYPASS
        )


BYPASS = Skip(Decision(Result.ACCEPT, Reason.BYPASS))


class TestWhatComesFirst:
    def test_mfa_disabled_is_accepted_as_such(self) -> None:
        who = subject(APP, mfa=MfaState.DISABLED)
        assert reason(second_factor(who, NOW, None, False, BYPASS)) is Reason.MFA_NOT_REQUIRED

    def test_a_locked_user_stays_locked(self) -> None:
        who = subject(APP, locked_until=NOW + 60)
        assert reason(second_factor(who, NOW, None, False, BYPASS)) is Reason.USER_LOCKED

    def test_a_user_asked_to_register_again_must_register(self) -> None:
        who = subject(APP, registration_required_at=NOW - 5)
        assert reason(second_factor(who, NOW, None, False, BYPASS)) is (
            Reason.REGISTRATION_REQUIRED
        )

    def test_the_registration_policy_applies_before_the_skip(self) -> None:
        policy = {"registration_groups": ["VPN"], "registration_kinds": ["app_push"]}
        who = subject(APP, settings=policy, groups=("CN=VPN,DC=example,DC=test",))
        assert reason(second_factor(who, NOW, None, False, BYPASS)) is Reason.REGISTRATION_POLICY

    def test_a_user_who_meets_the_registration_policy_is_skipped(self) -> None:
        policy = {"registration_groups": ["VPN"], "registration_kinds": ["app_code"]}
        who = subject(APP, settings=policy, groups=("CN=VPN,DC=example,DC=test",))
        assert reason(second_factor(who, NOW, None, False, BYPASS)) is Reason.BYPASS

    def test_without_a_skip_the_second_factor_is_asked(self) -> None:
        assert isinstance(second_factor(subject(APP), NOW, None, False, None), Offer)
