"""RADIUS sign-ins at DEBUG leave no secret in the logs: not the shared secret, the
password sent with the code (appended or after a comma), a wrong password, the codes,
nor a texted code typed back after an Access-Challenge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pyrad.client import Client
from pyrad.packet import AccessAccept, AccessChallenge, AccessReject

from tests.integration.http.test_no_secrets_in_logs import Secrets
from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.logs import Captured, captured
from tests.support.phones import MOBILE, code_of
from tests.support.radius import SECRET, ask, pyrad_client, running
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, RadiusMode
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")


@contextmanager
def nas_at_debug(app: App, mode: RadiusMode) -> Iterator[tuple[Client, Captured]]:
    add_client(app, mode=mode)
    with captured("DEBUG", "json") as logs, running(app) as server:
        nas = pyrad_client(server.port, timeout=10)
        try:
            yield nas, logs
        finally:
            nas._CloseSocket()


def _audited(logs: Captured) -> list[str]:
    return [x["message"] for x in logs.lines() if x["logger"] == "twostep.audit"]


def test_a_password_with_codes_leaves_no_secret_in_the_logs(
    app: App, alice: builders.Enrolled, clock: FakeClock
) -> None:
    found = Secrets()
    found.add("shared secret", SECRET)
    password = "tr0ub4dor and 3"
    found.add("password", password)
    app.passwords.set_password(OPERATOR, "default", "alice", password)
    with nas_at_debug(app, RadiusMode.PASSWORD_AND_CODE) as (nas, logs):
        for offset, sent in ((0, "{p}{c}"), (1, "{p},{c}")):
            code = alice.totp(clock.now(), offset)
            found.add(f"code {offset}", code)
            assert ask(nas, "alice", sent.format(p=password, c=code)).code == AccessAccept
        wrong = "tr0ub4dor and 4"
        found.add("wrong password", wrong)
        code = alice.totp(clock.now(), -1)
        found.add("code -1", code)
        assert ask(nas, "alice", f"{wrong}{code}").code == AccessReject
    assert len(_audited(logs)) == 3 and all(" via radius " in x for x in _audited(logs))
    assert found.found_in(logs.text()) == []


def test_a_texted_code_after_a_challenge_leaves_no_secret_in_the_logs(app: App) -> None:
    found = Secrets()
    found.add("shared secret", SECRET)
    builders.user(app, "bob")
    app.enroll.enroll_phone(OPERATOR, "default", "bob", MethodKind.SMS, MOBILE)
    with nas_at_debug(app, RadiusMode.CHALLENGE) as (nas, logs):
        reply = ask(nas, "bob", "")
        assert reply.code == AccessChallenge
        state = reply["State"][0]
        texted = code_of(app, state.decode())
        found.add("texted code", texted)
        assert ask(nas, "bob", texted, state).code == AccessAccept
    assert len(_audited(logs)) == 2 and all(" via radius " in x for x in _audited(logs))
    assert found.found_in(logs.text()) == []
