"""The pages tell a user why the second factor failed when the reason is theirs to act on."""

from __future__ import annotations

import pytest

from twostep.domain.results import Reason
from twostep.interfaces.web import texts


@pytest.mark.parametrize(
    "reason",
    [Reason.TOKEN_EXPIRED, Reason.INVALID_CODE, Reason.REGISTRATION_POLICY, Reason.DENIED],
)
def test_a_reason_the_user_can_act_on_has_its_own_text(reason: Reason) -> None:
    assert texts.reason_text(reason) != texts.OTHER_FAILURE


def test_an_unknown_or_missing_reason_gets_the_general_text() -> None:
    assert texts.reason_text(None) == texts.OTHER_FAILURE
    assert texts.reason_text(Reason.SUPERSEDED) == texts.OTHER_FAILURE
