"""Page sessions: a token the store never holds, idle and absolute expiry from the tenant's
settings at sign-in, sign-out and revocation."""

from __future__ import annotations

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.domain.pages import Stage
from twostep.services.admin import OPERATOR
from twostep.services.page_sessions import SECOND_FACTOR_SECONDS, TOUCH_SECONDS, session_id

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def alice(app: App) -> tuple[int, int]:
    builders.user(app, "alice")
    user = app.admin.get_user(OPERATOR, "default", "alice")
    return user.tenant_id, user.id


def test_the_store_keeps_only_the_tokens_digest(app: App, alice: tuple[int, int]) -> None:
    token = app.page_sessions.open(*alice, Stage.SIGNED_IN, role=Role.TENANT_ADMIN)
    found = app.page_sessions.find(token)
    assert found is not None
    assert found.id == session_id(token) != token
    assert (found.user, found.tenant, found.role) == ("alice", "default", Role.TENANT_ADMIN)
    assert app.page_sessions.find(found.id) is None  # the digest opens nothing


def test_idle_and_absolute_expiry_come_from_the_tenants_settings(
    app: App, clock: FakeClock, alice: tuple[int, int]
) -> None:
    app.admin.update_settings(
        OPERATOR, "default", {"page_idle_seconds": 100, "page_session_seconds": 300}
    )
    token = app.page_sessions.open(*alice, Stage.SIGNED_IN)
    for _ in range(2):
        clock.advance(99)
        assert app.page_sessions.find(token) is not None
    clock.advance(100)
    assert app.page_sessions.find(token) is None  # idle 100 s

    other = app.page_sessions.open(*alice, Stage.SIGNED_IN)
    for _ in range(3):
        clock.advance(99)
        assert app.page_sessions.find(other) is not None
    clock.advance(10)
    assert app.page_sessions.find(other) is None  # 307 s after sign-in


def test_a_session_keeps_the_settings_it_opened_with(
    app: App, clock: FakeClock, alice: tuple[int, int]
) -> None:
    token = app.page_sessions.open(*alice, Stage.SIGNED_IN)  # idle 900 s
    app.admin.update_settings(OPERATOR, "default", {"page_idle_seconds": 60})
    clock.advance(120)
    assert app.page_sessions.find(token) is not None


def test_the_second_factor_stage_lasts_ten_minutes(
    app: App, clock: FakeClock, alice: tuple[int, int]
) -> None:
    token = app.page_sessions.open(*alice, Stage.SECOND_FACTOR, data="{}")
    clock.advance(SECOND_FACTOR_SECONDS)
    assert app.page_sessions.find(token) is None


def test_sign_out_and_revocation_end_sessions(app: App, alice: tuple[int, int]) -> None:
    first = app.page_sessions.open(*alice, Stage.SIGNED_IN)
    second = app.page_sessions.open(*alice, Stage.SIGNED_IN)
    third = app.page_sessions.open(*alice, Stage.SIGNED_IN)
    app.page_sessions.end(first)
    assert app.page_sessions.find(first) is None
    assert app.page_sessions.revoke_user(OPERATOR, "default", "alice") == 2
    assert app.page_sessions.find(second) is None and app.page_sessions.find(third) is None


@pytest.mark.parametrize("token", [None, "", "x" * 129, "unknown"])
def test_no_session_for_a_missing_or_odd_token(app: App, token: str | None) -> None:
    assert app.page_sessions.find(token) is None
    app.page_sessions.end(token)  # nothing to end, no error


def test_expired_sessions_are_swept_when_another_opens(
    app: App, clock: FakeClock, alice: tuple[int, int]
) -> None:
    app.page_sessions.open(*alice, Stage.SECOND_FACTOR)
    clock.advance(SECOND_FACTOR_SECONDS + 1)
    app.page_sessions.open(*alice, Stage.SIGNED_IN)
    with app.storage.transaction() as tx:
        count = tx.conn.exec_driver_sql("SELECT count(*) FROM page_sessions").scalar_one()
    assert count == 1


def test_a_page_view_writes_the_last_seen_time_only_when_it_is_stale(
    app: App, clock: FakeClock, alice: tuple[int, int]
) -> None:
    token = app.page_sessions.open(*alice, Stage.SIGNED_IN)
    opened = clock.now()
    clock.advance(TOUCH_SECONDS - 1)
    seen = app.page_sessions.find(token)
    assert seen is not None and seen.last_seen_at == opened  # a read: nothing written
    clock.advance(1)
    seen = app.page_sessions.find(token)
    assert seen is not None and seen.last_seen_at == clock.now()
    with app.storage.transaction() as tx:
        stored = tx.page_sessions.by_id(session_id(token))
    assert stored is not None and stored.last_seen_at == clock.now()  # written
