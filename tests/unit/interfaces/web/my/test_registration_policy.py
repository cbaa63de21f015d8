"""A user the tenant's registration policy refuses (one of their groups must register a kind
of method they lack) lands in the registration after their primary password, as a user an
admin asked to register does; the session reaches nothing but the registration until they
have a method of that kind, and a method of another kind does not end it. A user who already
has a method they may use proves it first (its second factor at /my/verify): the password
alone registers nothing, or whoever holds it would add their own authenticator. The API
still refuses them with registration_policy."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.phones import MOBILE, code_of
from tests.unit.interfaces.web.conftest import PASSWORD
from tests.unit.interfaces.web.my.test_portal import add_app, code_now, password_step, post
from twostep.bootstrap import App
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

POLICY = {"registration_groups": ["VPN Users"], "registration_kinds": ["app_code"]}
_ELSEWHERE = ("/my/app-passwords", "/my/signins", "/my/browsers")


@pytest.fixture
def dave(app: App) -> builders.Enrolled:
    """A user of the VPN group with a hardware token only: no authenticator app."""
    builders.user(app, "dave")
    token = builders.token(app, "dave")
    app.passwords.set_password(OPERATOR, "default", "dave", PASSWORD)
    with app.storage.transaction(write=True) as tx:
        found = tx.users.by_name(1, "dave")
        assert found is not None
        tx.users.set_groups(found.id, ["CN=VPN Users,OU=Groups,DC=example,DC=com"])
    app.admin.update_settings(OPERATOR, "default", POLICY)
    return token


@pytest.fixture
def unproven(app: App, dave: builders.Enrolled) -> builders.Enrolled:
    """Dave, with hardware tokens turned off in the tenant: no method he may use."""
    app.admin.update_settings(OPERATOR, "default", {"disabled_kinds": ["oath_token"]})
    return dave


def _limited(pages: TestClient) -> None:
    for path in _ELSEWHERE:
        assert pages.get(path).headers["location"] == "/my", path


def _proven(pages: TestClient, dave: builders.Enrolled) -> None:
    """The password, then the token's code at the second-factor step."""
    first = password_step(pages, "dave")
    assert first.headers["location"] == "/my/verify", first.text
    done = post(pages, "/my/verify", "/my/verify", action="code", code=dave.hotp(0))
    assert done.headers["location"] == "/my", done.text


def test_the_password_alone_opens_nothing_when_a_method_exists(
    app: App, pages: TestClient, dave: builders.Enrolled
) -> None:
    first = password_step(pages, "dave")
    assert first.headers["location"] == "/my/verify", first.text
    assert "Verify it is you with one you have first" in pages.get("/my/verify").text
    assert pages.get("/my").headers["location"] == "/my/signin"
    for path in _ELSEWHERE:
        assert pages.get(path).headers["location"] == "/my/signin", path
    added = post(pages, "/my/verify", "/my/app")
    assert added.status_code in (302, 303, 403) and 'id="secret"' not in added.text
    with app.storage.transaction() as tx:
        user = tx.users.by_name(1, "dave")
        assert user is not None
        assert [m.kind.value for m in tx.methods.for_user(user.id)] == ["oath_token"]


def test_a_wrong_code_opens_nothing(app: App, pages: TestClient, dave: builders.Enrolled) -> None:
    password_step(pages, "dave")
    near = {dave.hotp(counter) for counter in range(100)}  # none of the token's next codes
    code = next(f"{n:06d}" for n in range(1000) if f"{n:06d}" not in near)
    wrong = post(pages, "/my/verify", "/my/verify", action="code", code=code)
    assert wrong.status_code == 401
    assert pages.get("/my").headers["location"] == "/my/signin"


def test_a_bypass_does_not_stand_for_the_method(
    app: App, pages: TestClient, dave: builders.Enrolled
) -> None:
    app.bypasses.grant(OPERATOR, "default", "dave")
    first = password_step(pages, "dave")
    assert first.headers["location"] == "/my/verify", first.text
    assert pages.get("/my").headers["location"] == "/my/signin"


def test_the_method_s_code_opens_the_registration_naming_the_kind(
    app: App, pages: TestClient, dave: builders.Enrolled
) -> None:
    _proven(pages, dave)
    page = pages.get("/my")
    assert "Register a method" in page.text
    asked = re.search(r'<p id="required-kinds">(.*?)</p>', page.text, re.S)
    assert asked is not None and "authenticator app" in asked.group(1).lower()
    _limited(pages)


def test_even_without_password_registration_the_method_opens_it(
    app: App, pages: TestClient, dave: builders.Enrolled
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"password_registration": False})
    _proven(pages, dave)
    assert "Register a method" in pages.get("/my").text


def test_the_api_still_refuses_with_registration_policy(app: App, dave: builders.Enrolled) -> None:
    integration, _key = builders.integration(app)
    asked = SignInRequest(user="dave", integration=integration, password=PASSWORD)
    decision = app.signin.sign_in(asked)
    assert (decision.result, decision.reason) == (Result.REJECT, Reason.REGISTRATION_POLICY)
    # A request claiming the portal's purpose from another interface gains nothing.
    claimed = app.signin.sign_in(replace(asked, registering=True))
    assert (claimed.result, claimed.reason) == (Result.REJECT, Reason.REGISTRATION_POLICY)


def test_without_a_usable_method_the_password_leads_to_the_registration(
    app: App, pages: TestClient, unproven: builders.Enrolled
) -> None:
    first = password_step(pages, "dave")
    assert first.headers["location"] == "/my", first.text
    page = pages.get("/my")
    assert "Register a method" in page.text
    asked = re.search(r'<p id="required-kinds">(.*?)</p>', page.text, re.S)
    assert asked is not None and "authenticator app" in asked.group(1).lower()
    _limited(pages)


def test_registering_the_asked_kind_opens_the_portal(
    app: App, pages: TestClient, dave: builders.Enrolled
) -> None:
    _proven(pages, dave)
    method_id, seed, _shown = add_app(pages)
    done = post(pages, "/my", "/my/app/confirm", method_id=method_id, code=code_now(app, seed))
    assert done.headers["location"] == "/my?done=app"
    assert "Your security info" in pages.get("/my").text
    assert pages.get("/my/app-passwords").status_code == 200
    assert pages.get("/my/signins").status_code == 200


def test_a_method_of_another_kind_keeps_the_session_to_the_registration(
    app: App, pages: TestClient, dave: builders.Enrolled
) -> None:
    _proven(pages, dave)
    page = post(pages, "/my", "/my/phone", kind="sms", phone=MOBILE)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    code = code_of(app, hidden["transaction_id"])
    form = {k: hidden[k] for k in ("method_id", "transaction_id", "kind", "replaces")}
    done = post(pages, "/my", "/my/phone/confirm", action="confirm", code=code, **form)
    assert done.headers["location"] == "/my?done=phone"
    assert "Register a method" in pages.get("/my").text  # still: a text is not an app
    _limited(pages)


def test_without_a_usable_method_nor_password_registration_the_user_needs_a_link(
    app: App, pages: TestClient, unproven: builders.Enrolled
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"password_registration": False})
    refused = password_step(pages, "dave")
    assert refused.status_code == 403 and "enrollment link" in refused.text
    assert pages.get("/my").headers["location"] == "/my/signin"


def test_a_wrong_password_is_still_only_a_failed_sign_in(
    app: App, pages: TestClient, dave: builders.Enrolled
) -> None:
    wrong = password_step(pages, "dave", password="not it")
    assert wrong.status_code == 401 and "The sign-in failed" in wrong.text
    assert pages.get("/my").headers["location"] == "/my/signin"
