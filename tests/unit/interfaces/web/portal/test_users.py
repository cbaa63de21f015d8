"""Users: the prefix search in pages, a user's page, and its actions through the services
with the signed-in admin as the actor (interface web, the client's address)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import builders, pskc_files
from tests.unit.interfaces.web.portal.conftest import SignIn, post
from twostep.bootstrap import App
from twostep.domain.entities import MfaState, Role
from twostep.interfaces.token_files import ImportOptions, import_file
from twostep.interfaces.web.portal.base import PAGE
from twostep.services.admin import OPERATOR

USER = "/admin/tenants/default/users/alice"


def names(html: str, prefix: str) -> list[str]:
    """The user names linked from a results page, in order."""
    marker = 'href="/admin/tenants/default/users/'
    found = []
    for part in html.split(marker)[1:]:
        name = part.split('"', 1)[0]
        if name.startswith(prefix):
            found.append(name)
    return found


def test_the_search_finds_names_by_prefix_in_any_case_page_by_page(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    for number in range(PAGE + 5):
        builders.user(app, f"Bob{number:03d}")
    builders.user(app, "bo")  # shorter than the prefix: not found
    builders.user(app, "carol")
    admin_as(Role.HELP_DESK)
    first = pages.get("/admin/tenants/default/users", params={"q": "bob"})
    assert first.status_code == 200
    shown = names(first.text, "Bob")
    assert shown == [f"Bob{n:03d}" for n in range(PAGE)]
    assert "carol" not in first.text
    more = pages.get("/admin/tenants/default/users", params={"q": "bob", "after": shown[-1]})
    assert names(more.text, "Bob") == [f"Bob{n:03d}" for n in range(PAGE, PAGE + 5)]
    assert "Next page" not in more.text


def test_the_search_finds_a_whole_name_first(app: App, pages: TestClient, admin_as: SignIn) -> None:
    builders.user(app, "dave")
    builders.user(app, "dave2")
    admin_as(Role.HELP_DESK)
    found = pages.get("/admin/tenants/default/users", params={"q": "DAVE"})
    assert names(found.text, "dave") == ["dave", "dave2"]


def test_a_users_page_shows_methods_devices_and_state(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.HELP_DESK)
    page = pages.get(USER)
    assert page.status_code == 200
    assert "Code from an authenticator app" in page.text
    assert "No device activated." in page.text
    # A help desk sees the actions its role allows, not the others.
    assert 'action="/admin/tenants/default/users/alice/unlock"' in page.text
    assert 'action="/admin/tenants/default/users/alice/reregister"' in page.text
    assert "/disable" not in page.text and "/assign-token" not in page.text


def test_a_help_desk_unlocks_a_user_on_the_admin_trail(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    alice = app.admin.get_user(OPERATOR, "default", "alice")
    with app.deps.storage.transaction(write=True) as tx:  # as after too many failures
        tx.users.lock(alice.id, app.deps.clock.now() + 900)
    admin_as(Role.HELP_DESK)
    assert "Locked until" in pages.get(USER).text
    done = post(pages, USER, USER + "/unlock")
    assert (done.status_code, done.headers["location"]) == (303, USER + "?done=unlocked")  # type: ignore[attr-defined]
    after = pages.get(USER + "?done=unlocked")
    assert "The user was unlocked." in after.text and "Locked until" not in after.text
    (event,) = app.admin_events.query(OPERATOR, "default", action="user.unlock")
    assert (event.interface, event.source, event.target) == ("web", "testclient", "alice")
    assert event.actor == "user:" + str(app.admin.get_user(OPERATOR, "default", "root").id)


def test_a_tenant_admin_disables_and_enables_a_user(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.TENANT_ADMIN)
    post(pages, USER, USER + "/disable")
    assert app.admin.get_user(OPERATOR, "default", "alice").disabled
    assert "Enable the account" in pages.get(USER).text
    post(pages, USER, USER + "/enable")
    assert not app.admin.get_user(OPERATOR, "default", "alice").disabled


def test_a_tenant_admin_changes_the_mfa_state(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.TENANT_ADMIN)
    post(pages, USER, USER + "/mfa", mfa="disabled")
    assert app.admin.get_user(OPERATOR, "default", "alice").mfa is MfaState.DISABLED
    wrong = post(pages, USER, USER + "/mfa", mfa="sometimes")
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "invalid_request" in wrong.text  # type: ignore[attr-defined]


def test_re_registration_and_app_password_deletion(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})
    made = app.app_passwords.create(OPERATOR, "default", "alice", "Mail on laptop")
    admin_as(Role.HELP_DESK)
    page = pages.get(USER).text
    assert "Mail on laptop" in page and made.password not in page
    post(pages, USER, USER + "/delete-app-password", id=made.app_password.id)
    assert app.app_passwords.list(OPERATOR, "default", "alice") == []
    post(pages, USER, USER + "/reregister")
    assert app.enroll.list(OPERATOR, "default", "alice") == []
    assert app.admin.get_user(OPERATOR, "default", "alice").registration_required_at is not None


def test_a_help_desk_cannot_disable_or_assign(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.HELP_DESK)
    for action in ("disable", "mfa", "assign-token"):
        refused = post(pages, USER, f"{USER}/{action}", mfa="disabled", serial="X")
        assert refused.status_code == 403, action  # type: ignore[attr-defined]
    assert not app.admin.get_user(OPERATOR, "default", "alice").disabled


def test_a_tenant_admin_assigns_a_token_from_the_pool(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.user(app, "alice")
    data = pskc_files.encrypted(["TK-1"])
    import_file(app, OPERATOR, "default", data, ImportOptions(key_hex=pskc_files.KEY.hex()))
    admin_as(Role.TENANT_ADMIN)
    assert '<option value="TK-1">' in pages.get(USER).text
    post(pages, USER, USER + "/assign-token", serial="TK-1")
    (method,) = app.enroll.list(OPERATOR, "default", "alice")
    assert method.serial == "TK-1"


def test_an_unknown_user_is_a_404_page(pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.HELP_DESK)
    answer = pages.get("/admin/tenants/default/users/nobody")
    assert answer.status_code == 404 and "user_not_found" in answer.text
