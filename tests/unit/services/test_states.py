"""A refused State is audited with the interface that sent it: a RADIUS State from a NAS,
or a page continuing its challenge."""

from __future__ import annotations

import pytest

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest


@pytest.mark.parametrize("interface", ["radius", "web"])
def test_a_forged_state_is_refused_and_audited_with_its_interface(app: App, interface: str) -> None:
    integration, _key = builders.integration(app, "intranet")
    builders.enrolled_user(app, "alice")
    decision = app.signin.sign_in(
        SignInRequest(
            user="alice", integration=integration, state="forged-state", interface=interface
        )
    )
    assert (decision.result, decision.reason) == (Result.REJECT, Reason.INVALID_CODE)
    [event] = app.audit.query(OPERATOR, "default", user="alice")
    assert (event.result, event.interface) == ("reject", interface)
