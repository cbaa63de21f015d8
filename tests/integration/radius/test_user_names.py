"""RADIUS: a User-Name in any case or width reaches the one user and lockout counter."""

from __future__ import annotations

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.radius import Running, access_request, exchange
from twostep.bootstrap import App
from twostep.interfaces.radius import packet
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


def answer(radius: Running, user: str, password: str) -> int:
    reply = exchange(radius.port, access_request(user, password))
    assert reply is not None
    return reply[0]


def test_every_variant_of_the_user_name_is_the_one_user(
    app: App, radius: Running, clock: FakeClock
) -> None:
    alice = builders.enrolled_user(app, "Alice")
    clock.advance(120)  # past the confirmation code
    assert answer(radius, "ALICE", "000000") == packet.ACCESS_REJECT
    assert answer(radius, "alice", "000000") == packet.ACCESS_REJECT
    assert app.admin.get_user(OPERATOR, "default", "Alice").failed_count == 2
    code = alice.totp(clock.now())
    assert answer(radius, FULL_WIDTH_ALICE, code) == packet.ACCESS_ACCEPT
    assert app.admin.get_user(OPERATOR, "default", "Alice").failed_count == 0
    assert {e.user for e in app.audit.query(OPERATOR, "default")} == {"Alice"}
