"""One user per name, whatever case, width or normalisation it is typed in: one account,
one lockout counter, one display name in answers and audit events."""

from __future__ import annotations

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import Integration
from twostep.domain.errors import InvalidInput, UserExists
from twostep.domain.ports.users import NewUser
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR, UserChanges
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")

FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
FULL_WIDTH_ALICE_CAPS = "\uff21\uff2c\uff29\uff23\uff25"
VARIANTS = ["Alice", "alice", "ALICE", "aLiCe", FULL_WIDTH_ALICE, FULL_WIDTH_ALICE_CAPS]


@pytest.fixture
def vpn(app: App) -> Integration:
    return builders.integration(app)[0]


def create(app: App, name: str) -> str:
    return app.admin.create_user(OPERATOR, "default", NewUser(name=name)).name


def wrong_code(app: App, vpn: Integration, typed: str) -> Reason | None:
    request = SignInRequest(user=typed, integration=vpn, code="000000")
    decision = app.signin.sign_in(request)
    assert decision.result is Result.REJECT
    return decision.reason


@pytest.mark.parametrize("again", ["ALICE", "alice", FULL_WIDTH_ALICE, FULL_WIDTH_ALICE_CAPS])
def test_a_case_or_width_variant_of_an_existing_user_is_refused(app: App, again: str) -> None:
    create(app, "Alice")
    with pytest.raises(UserExists, match="user 'Alice' already exists"):
        create(app, again)
    assert [u.name for u in app.admin.list_users(OPERATOR, "default")] == ["Alice"]


def test_canonically_equivalent_names_are_one_user(app: App) -> None:
    assert create(app, "jose\u0301") == "jos\u00e9"  # stored in NFC
    with pytest.raises(UserExists):
        create(app, "jos\u00e9")
    assert app.admin.get_user(OPERATOR, "default", "JOSE\u0301").name == "jos\u00e9"


def test_a_full_width_name_is_stored_in_ordinary_letters(app: App) -> None:
    assert create(app, FULL_WIDTH_ALICE_CAPS) == "ALICE"


def test_look_alikes_and_invisible_characters_are_refused(app: App) -> None:
    for name in ("\u0430lice", "ali\u200bce", "alice\u202e", "a\u2028b", "a\u0085b"):
        with pytest.raises(InvalidInput) as refused:
            create(app, name)
        assert refused.value.field == "user"
    assert app.admin.list_users(OPERATOR, "default") == []


def test_a_name_in_one_script_is_its_own_user(app: App) -> None:
    create(app, "alice")
    assert create(app, "\u0430\u043b\u0438\u0441\u0430") == "\u0430\u043b\u0438\u0441\u0430"
    assert create(app, "\uae40\ubbfc\uc900") == "\uae40\ubbfc\uc900"
    assert len(app.admin.list_users(OPERATOR, "default")) == 3


@pytest.mark.parametrize("typed", VARIANTS)
def test_admin_calls_reach_the_user_by_any_variant(app: App, typed: str) -> None:
    create(app, "Alice")
    changed = app.admin.update_user(OPERATOR, "default", typed, UserChanges(first_name="Al"))
    assert (changed.name, changed.first_name) == ("Alice", "Al")
    assert app.admin.get_user(OPERATOR, "default", typed).first_name == "Al"
    assert app.admin.unlock_user(OPERATOR, "default", typed).name == "Alice"
    app.admin.delete_user(OPERATOR, "default", typed)
    assert app.admin.list_users(OPERATOR, "default") == []


def test_every_variant_counts_toward_the_one_lockout(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 4, "lockout_seconds": 300})
    builders.user(app, "Alice")
    alice = builders.app_code(app, "alice")
    clock.advance(120)  # past the confirmation code
    assert wrong_code(app, vpn, "alice") is Reason.INVALID_CODE
    assert wrong_code(app, vpn, "ALICE") is Reason.INVALID_CODE
    assert wrong_code(app, vpn, FULL_WIDTH_ALICE) is Reason.INVALID_CODE
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 3
    assert wrong_code(app, vpn, FULL_WIDTH_ALICE_CAPS) is Reason.INVALID_CODE  # the 4th: locked
    right = SignInRequest(user="Alice", integration=vpn, code=alice.totp(clock.now()))
    assert app.signin.sign_in(right).reason is Reason.USER_LOCKED


def test_a_right_code_under_any_variant_is_the_users_and_resets_the_count(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    builders.user(app, "Alice")
    alice = builders.app_code(app, "ALICE")
    assert wrong_code(app, vpn, "alice") is Reason.INVALID_CODE
    right = SignInRequest(user=FULL_WIDTH_ALICE, integration=vpn, code=alice.totp(clock.now()))
    assert app.signin.sign_in(right).result is Result.ACCEPT
    assert app.admin.get_user(OPERATOR, "default", "Alice").failed_count == 0


def test_audit_events_name_the_user_as_created(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    builders.user(app, "Alice")
    wrong_code(app, vpn, "ALICE")
    wrong_code(app, vpn, FULL_WIDTH_ALICE)
    wrong_code(app, vpn, "bob")  # nobody: recorded as typed
    users = [e.user for e in app.audit.query(OPERATOR, "default")]
    assert users == ["Alice", "Alice", "bob"]


def test_the_audit_log_is_searched_by_any_variant(app: App, vpn: Integration) -> None:
    builders.user(app, "Alice")
    wrong_code(app, vpn, "alice")
    wrong_code(app, vpn, "bob")
    found = app.audit.query(OPERATOR, "default", user=FULL_WIDTH_ALICE_CAPS)
    assert [e.user for e in found] == ["Alice"]
    assert [e.user for e in app.audit.query(OPERATOR, "default", user="bob")] == ["bob"]


def test_a_radius_password_is_checked_for_any_variant(app: App, vpn: Integration) -> None:
    builders.user(app, "Alice")
    app.passwords.set_password(OPERATOR, "default", "ALICE", "correct horse")
    found = app.signin.sign_in(SignInRequest(FULL_WIDTH_ALICE, vpn, password="correct horse"))
    assert found.reason is Reason.NO_METHOD_REGISTERED  # the password passed


def test_methods_are_enrolled_and_listed_by_any_variant(app: App) -> None:
    builders.user(app, "Alice")
    builders.app_code(app, FULL_WIDTH_ALICE)
    assert [m.kind.value for m in app.enroll.list(OPERATOR, "default", "ALICE")] == ["app_code"]


def test_listing_pages_by_key_with_any_variant_as_the_cursor(app: App) -> None:
    for name in ("carol", "Alice", "bob", "Dave"):
        create(app, name)
    first = app.admin.list_users(OPERATOR, "default", limit=2)
    assert [u.name for u in first] == ["Alice", "bob"]
    rest = app.admin.list_users(OPERATOR, "default", after="BOB", limit=2)
    assert [u.name for u in rest] == ["carol", "Dave"]
