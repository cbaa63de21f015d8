"""Primary passwords checked by a bind as the user to the directory they came from, over
HTTP and RADIUS, against a real slapd; a directory that does not answer fails closed."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.radius import radclient, running
from tests.support.slapd import LdapUser, SlapdTree
from twostep.bootstrap import App
from twostep.domain.entities import MfaState, RadiusMode
from twostep.domain.ports.users import NewUser
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR, UserChanges

pytestmark = pytest.mark.usefixtures("backend")

MA = "Message-Authenticator = 0x00"


def synced(app: App, slapd: SlapdTree, *users: str, **settings: Any) -> list[LdapUser]:
    """Users in the directory, taken into Twostep by a sync."""
    made = [slapd.add_user(name) for name in users]
    values = slapd.ldap_settings(kind="ldap", **settings).model_dump()
    app.directories.add(OPERATOR, "default", "corp", values)
    app.directory_sync.sync(OPERATOR, "default", "corp")
    return made


@pytest.fixture
def client(app: App) -> Any:
    with TestClient(create_app(app), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def key(app: App) -> dict[str, str]:
    return {"Authorization": f"Bearer {builders.integration(app, 'web')[1]}"}


def validate(client: TestClient, key: dict[str, str], user: str, **body: Any) -> Any:
    r = client.post("/v1/validate", json={"user": user, **body}, headers=key)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_password_is_checked_by_a_bind_then_the_code(
    app: App, slapd: SlapdTree, client: TestClient, key: dict[str, str], clock: FakeClock
) -> None:
    [alice] = synced(app, slapd, "alice")
    code = builders.app_code(app, alice.upn)
    answer = validate(client, key, alice.upn, password=alice.password, code=code.totp(clock.now()))
    assert answer["result"] == "accept", answer
    wrong = validate(client, key, alice.upn, password="not it", code=code.totp(clock.now(), 1))
    assert (wrong["result"], wrong["reason"]) == ("reject", "invalid_password")
    assert app.admin.get_user(OPERATOR, "default", alice.upn).failed_count == 1
    # The code of the refused attempt was not spent: it signs in with the right password.
    again = validate(
        client, key, alice.upn, password=alice.password, code=code.totp(clock.now(), 1)
    )
    assert again["result"] == "accept"


def test_a_password_changed_in_the_directory_works_at_once(
    app: App, slapd: SlapdTree, client: TestClient, key: dict[str, str], clock: FakeClock
) -> None:
    [alice] = synced(app, slapd, "alice")
    code = builders.app_code(app, alice.upn)
    changed = slapd.set_password(alice, "a brand new secret")
    old = validate(client, key, alice.upn, password=alice.password, code=code.totp(clock.now()))
    assert old["reason"] == "invalid_password"
    new = validate(client, key, alice.upn, password=changed.password, code=code.totp(clock.now()))
    assert new["result"] == "accept"


def test_an_unreachable_directory_accepts_nobody(
    app: App,
    slapd: SlapdTree,
    client: TestClient,
    key: dict[str, str],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fail closed: 0 of 40 racing sign-ins with the right password and code pass, none
    counts toward the lockout, each is audited with the reason; a local password the user
    also has is no fallback."""
    users = synced(app, slapd, *(f"user{i}" for i in range(8)))
    codes = {u.upn: builders.app_code(app, u.upn) for u in users}
    for user in users:
        app.passwords.set_password(OPERATOR, "default", user.upn, "local fallback")
    slapd.stop()

    def attempt(i: int) -> Any:
        user = users[i % len(users)]
        code = codes[user.upn].totp(clock.now(), i % 3 - 1)
        return validate(client, key, user.upn, password=user.password, code=code)

    with ThreadPoolExecutor(8) as pool, caplog.at_level(logging.WARNING, "twostep.directory"):
        answers = list(pool.map(attempt, range(40)))
    # The outage is logged, once: not once a sign-in.
    assert len([r for r in caplog.records if r.name == "twostep.directory"]) == 1
    local = validate(client, key, users[0].upn, password="local fallback", code="123456")
    assert {(a["result"], a["reason"]) for a in [*answers, local]} == {
        ("reject", "directory_unavailable")
    }
    events = app.audit.query(OPERATOR, "default", limit=1000)
    assert len(events) == 41 and all(e.reason == "directory_unavailable" for e in events)
    assert all(e.detail and "did not answer" in e.detail for e in events)
    assert all(app.admin.get_user(OPERATOR, "default", u.upn).failed_count == 0 for u in users)

    slapd.start()
    user = users[0]
    back = validate(
        client, key, user.upn, password=user.password, code=codes[user.upn].totp(clock.now())
    )
    assert back["result"] == "accept"


def test_users_made_by_hand_keep_their_local_password(
    app: App, slapd: SlapdTree, client: TestClient, key: dict[str, str], clock: FakeClock
) -> None:
    synced(app, slapd, "alice")
    app.admin.create_user(OPERATOR, "default", NewUser(name="bob"))
    bob = builders.app_code(app, "bob")
    app.passwords.set_password(OPERATOR, "default", "bob", "bobs password")
    slapd.stop()
    answer = validate(client, key, "bob", password="bobs password", code=bob.totp(clock.now()))
    assert answer["result"] == "accept"


def test_a_directory_without_password_binds_leaves_passwords_local(
    app: App, slapd: SlapdTree, client: TestClient, key: dict[str, str], clock: FakeClock
) -> None:
    [alice] = synced(app, slapd, "alice", password_bind=False)
    code = builders.app_code(app, alice.upn)
    answer = validate(client, key, alice.upn, password=alice.password, code=code.totp(clock.now()))
    assert answer["reason"] == "invalid_password"  # no local password, and no bind
    app.passwords.set_password(OPERATOR, "default", alice.upn, "local secret")
    answer = validate(client, key, alice.upn, password="local secret", code=code.totp(clock.now()))
    assert answer["result"] == "accept"


def test_radius_password_and_code_binds_too(app: App, slapd: SlapdTree, clock: FakeClock) -> None:
    [alice] = synced(app, slapd, "alice")
    code = builders.app_code(app, alice.upn)
    add_client(app, mode=RadiusMode.PASSWORD_AND_CODE)
    with running(app) as radius:
        typed = f"{alice.password},{code.totp(clock.now())}"
        answer = radclient(
            radius.port, f'User-Name = "{alice.upn}", User-Password = "{typed}", {MA}'
        )
        assert answer.code == "Access-Accept", answer.output
        slapd.stop()
        typed = f"{alice.password},{code.totp(clock.now(), 1)}"
        answer = radclient(
            radius.port, f'User-Name = "{alice.upn}", User-Password = "{typed}", {MA}'
        )
        assert answer.code == "Access-Reject"
        assert answer.attributes["Reply-Message"] == [
            "The password cannot be checked now: try again later"
        ]


def test_a_legacy_client_of_a_directory_user_without_mfa(
    app: App, slapd: SlapdTree, client: TestClient
) -> None:
    [alice] = synced(app, slapd, "alice")
    app.admin.update_user(OPERATOR, "default", alice.upn, UserChanges(mfa=MfaState.DISABLED))
    _integration, secret = app.admin.create_integration(OPERATOR, "default", "imap", legacy=True)
    imap = {"Authorization": f"Bearer {secret}"}
    answer = validate(client, imap, alice.upn, password=alice.password)
    assert (answer["result"], answer["reason"]) == ("accept", "mfa_not_required")
    assert validate(client, imap, alice.upn, password="wrong")["reason"] == "invalid_password"


def test_a_radius_clients_ldap_primary_binds_and_never_uses_the_local_hash(
    app: App, slapd: SlapdTree
) -> None:
    """A RADIUS client whose primary is ``ldap`` (MFA Server's LDAP target): User-Password
    is bound as the user to their directory, even where the directory does not check
    passwords for other clients (password_bind off); a user made by hand, with a local
    password, is refused; with require user match off, a directory user without a method
    is accepted after the bind alone."""
    from twostep.domain.entities import RadiusPrimary

    [alice] = synced(app, slapd, "alice", password_bind=False)
    app.admin.create_user(OPERATOR, "default", NewUser("local", mfa=MfaState.ENFORCED))
    app.passwords.set_password(OPERATOR, "default", "local", "local password")
    add_client(app, primary=RadiusPrimary.LDAP, require_user_match=False)
    with running(app) as server:
        good = radclient(
            server.port, f'User-Name = "{alice.upn}", User-Password = "{alice.password}", {MA}'
        )
        wrong = radclient(server.port, f'User-Name = "{alice.upn}", User-Password = "not it", {MA}')
        local = radclient(
            server.port, f'User-Name = "local", User-Password = "local password", {MA}'
        )
    assert good.code == "Access-Accept", good.output
    assert wrong.code == "Access-Reject", wrong.output
    assert local.code == "Access-Reject", local.output
