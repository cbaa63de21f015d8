"""The policy steps of a sign-in, in their order: who is asked for a second factor, and
which methods may give it."""

from __future__ import annotations

from typing import Any

import pytest

from twostep.domain.entities import Method, MethodKind, MethodStatus, MfaState, Tenant, User
from twostep.domain.ports.subjects import Subject
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.services.policy import Offer, in_policy, second_factor

NOW = 1_800_000_000.0
VPN_USERS = "CN=VPN Users,OU=Groups,DC=example,DC=test"


def method(kind: MethodKind, method_id: str | None = None, **fields: Any) -> Method:
    return Method(
        id=method_id or kind.value, user_id=1, kind=kind, status=MethodStatus.ACTIVE, **fields
    )


def subject(*methods: Method, settings: dict[str, Any] | None = None, **user: Any) -> Subject:
    tenant = Tenant(1, "default", TenantSettings(**(settings or {})))
    person = User(id=1, tenant_id=1, name="alice", **{"mfa": MfaState.ENFORCED, **user})
    return Subject(tenant, person, methods, {})


def decided(found: Decision | Offer) -> tuple[Result, Reason | None, tuple[str, ...]]:
    assert isinstance(found, Decision), found
    return found.result, found.reason, found.methods


def offered(found: Decision | Offer) -> list[str]:
    assert isinstance(found, Offer), found
    return [m.id for m in found.methods]


PUSH = method(MethodKind.APP_PUSH, "push")
SMS = method(MethodKind.SMS, "sms")
APP = method(MethodKind.APP_CODE, "app")


class TestOrder:
    def test_mfa_disabled_accepts_before_anything_else(self) -> None:
        who = subject(mfa=MfaState.DISABLED, locked_until=NOW + 60, registration_required_at=1)
        assert decided(second_factor(who, NOW, None, False))[:2] == (
            Result.ACCEPT,
            Reason.MFA_NOT_REQUIRED,
        )

    def test_locked_comes_before_registration(self) -> None:
        who = subject(locked_until=NOW + 60, registration_required_at=1)
        assert decided(second_factor(who, NOW, None, False))[1] is Reason.USER_LOCKED

    def test_an_admin_reset_asks_for_registration(self) -> None:
        who = subject(registration_required_at=NOW - 10)
        assert decided(second_factor(who, NOW, None, False))[1] is Reason.REGISTRATION_REQUIRED

    def test_nothing_registered(self) -> None:
        pending = Method(id="p", user_id=1, kind=MethodKind.APP_CODE, status=MethodStatus.PENDING)
        assert decided(second_factor(subject(pending), NOW, None, False))[1] is (
            Reason.NO_METHOD_REGISTERED
        )

    def test_the_default_is_offered_first(self) -> None:
        who = subject(SMS, PUSH, APP, default_method_id="push")
        assert offered(second_factor(who, NOW, None, False)) == ["push", "sms", "app"]


class TestDisabledKinds:
    off = {"disabled_kinds": ["sms"]}

    def test_a_disabled_kind_is_not_offered(self) -> None:
        who = subject(SMS, PUSH, default_method_id="push", settings=self.off)
        assert offered(second_factor(who, NOW, None, False)) == ["push"]

    def test_asking_for_it_answers_method_disabled_with_the_others(self) -> None:
        who = subject(SMS, PUSH, default_method_id="push", settings=self.off)
        assert decided(second_factor(who, NOW, MethodKind.SMS, False)) == (
            Result.REJECT,
            Reason.METHOD_DISABLED,
            ("app_push",),
        )

    def test_a_disabled_default_asks_the_user_to_pick_another(self) -> None:
        who = subject(SMS, PUSH, default_method_id="sms", settings=self.off)
        assert decided(second_factor(who, NOW, None, False)) == (
            Result.REJECT,
            Reason.DEFAULT_METHOD_DISABLED,
            ("app_push",),
        )

    def test_the_other_methods_still_work_when_asked_for_or_with_a_code(self) -> None:
        who = subject(SMS, PUSH, APP, default_method_id="sms", settings=self.off)
        assert offered(second_factor(who, NOW, MethodKind.APP_PUSH, False)) == ["push", "app"]
        assert offered(second_factor(who, NOW, None, True)) == ["push", "app"]

    def test_only_disabled_methods_left_is_default_method_disabled(self) -> None:
        who = subject(SMS, default_method_id="sms", settings=self.off)
        assert decided(second_factor(who, NOW, None, True)) == (
            Result.REJECT,
            Reason.DEFAULT_METHOD_DISABLED,
            (),
        )


class TestRegistrationPolicy:
    policy = {"registration_groups": ["VPN Users"], "registration_kinds": ["app_push"]}

    def test_a_member_without_the_required_kind_must_register_it(self) -> None:
        who = subject(SMS, default_method_id="sms", groups=(VPN_USERS,), settings=self.policy)
        assert decided(second_factor(who, NOW, None, False)) == (
            Result.REJECT,
            Reason.REGISTRATION_POLICY,
            ("sms",),
        )

    def test_a_member_with_it_passes(self) -> None:
        who = subject(SMS, PUSH, default_method_id="sms", groups=(VPN_USERS,), settings=self.policy)
        assert offered(second_factor(who, NOW, None, False)) == ["sms", "push"]

    def test_a_non_member_is_not_covered(self) -> None:
        who = subject(SMS, default_method_id="sms", groups=("CN=Staff,DC=x",), settings=self.policy)
        assert offered(second_factor(who, NOW, None, False)) == ["sms"]

    @pytest.mark.parametrize(
        "named", ["VPN Users", "vpn users", VPN_USERS, VPN_USERS.lower(), " VPN Users "]
    )
    def test_a_group_is_named_by_its_cn_or_dn_in_any_case(self, named: str) -> None:
        who = subject(groups=(VPN_USERS,), settings={"registration_groups": [named]})
        assert who.user is not None
        assert in_policy(who.user, who.tenant.settings.access)

    def test_no_kinds_means_any_method(self) -> None:
        settings = {"registration_groups": ["VPN Users"]}
        who = subject(SMS, groups=(VPN_USERS,), settings=settings)
        assert offered(second_factor(who, NOW, None, False)) == ["sms"]


class TestExpiredTokens:
    """A vendor's token past its validity period answers token_expired, not "nothing registered"."""

    TOKEN = method(MethodKind.OATH_TOKEN, "token", valid_until=NOW - 1)

    def test_a_user_whose_only_method_is_an_expired_token(self) -> None:
        for asked in (None, MethodKind.OATH_TOKEN):
            found = second_factor(subject(self.TOKEN), NOW, asked, True)
            assert decided(found)[:2] == (Result.REJECT, Reason.TOKEN_EXPIRED)

    def test_the_token_expires_at_valid_until(self) -> None:
        assert offered(second_factor(subject(self.TOKEN), NOW - 2, None, True)) == ["token"]

    def test_a_token_not_yet_valid_is_not_expired(self) -> None:
        early = method(MethodKind.OATH_TOKEN, "token", valid_from=NOW + 60)
        assert decided(second_factor(subject(early), NOW, None, True))[1] is (
            Reason.NO_METHOD_REGISTERED
        )

    def test_an_expired_token_asked_for_beside_other_methods(self) -> None:
        found = second_factor(subject(self.TOKEN, APP), NOW, MethodKind.OATH_TOKEN, True)
        assert decided(found) == (Result.REJECT, Reason.TOKEN_EXPIRED, ("app_code",))
        assert offered(second_factor(subject(self.TOKEN, APP), NOW, None, True)) == ["app"]

    def test_a_lost_expired_token_is_not_reported_as_expired(self) -> None:
        lost = Method("t", 1, MethodKind.OATH_TOKEN, MethodStatus.LOST, valid_until=NOW - 1)
        assert decided(second_factor(subject(lost), NOW, None, True))[1] is (
            Reason.NO_METHOD_REGISTERED
        )
