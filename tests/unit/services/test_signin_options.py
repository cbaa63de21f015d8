"""The two sign-in steps a RADIUS client turns on: which users are "unmatched", and which
failures offer the OATH code."""

from __future__ import annotations

import pytest

from twostep.domain.results import Decision, Reason, Result
from twostep.services import signin_options


@pytest.mark.parametrize(
    ("require_user_match", "external_primary", "checked", "accepted"),
    [
        (False, True, True, True),
        (True, True, True, False),  # the client requires a match
        (False, False, True, False),  # no primary of the client's own: never on nothing
        (False, True, False, False),  # its primary did not accept the password
    ],
)
def test_an_unmatched_user_is_accepted_only_after_the_clients_own_primary(
    require_user_match: bool, external_primary: bool, checked: bool, accepted: bool
) -> None:
    assert (
        signin_options.accepts_unmatched(require_user_match, external_primary, checked) is accepted
    )


def test_unenrolled_means_no_method_at_all() -> None:
    assert signin_options.unenrolled(Decision(Result.REJECT, Reason.NO_METHOD_REGISTERED))
    for deliberate in (
        Reason.REGISTRATION_REQUIRED,
        Reason.REGISTRATION_POLICY,
        Reason.TOKEN_EXPIRED,
        Reason.USER_LOCKED,
        Reason.USER_DISABLED,
        Reason.DEFAULT_METHOD_DISABLED,
    ):
        assert not signin_options.unenrolled(Decision(Result.REJECT, deliberate))


def test_the_method_failures_fall_back_and_a_fraud_report_never() -> None:
    for failed in (
        Reason.DENIED,
        Reason.TIMEOUT,
        Reason.CALL_NOT_ANSWERED,
        Reason.DELIVERY_FAILED,
    ):
        assert signin_options.falls_back(Decision(Result.REJECT, failed))
    for other in (Reason.FRAUD_REPORTED, Reason.INVALID_CODE, Reason.RATE_LIMITED):
        assert not signin_options.falls_back(Decision(Result.REJECT, other))
    assert not signin_options.falls_back(Decision(Result.CHALLENGE))
