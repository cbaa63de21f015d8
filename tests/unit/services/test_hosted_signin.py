"""The hosted sign-in service: a request is trusted only once it verifies under its
integration's own secret, names a listed return URL and starts one sign-in; the sign-in
goes through the one flow; a result is signed, short-lived and redeemed once.

Requests are made here with PyJWT, an implementation independent of ours, and results
are read with it: what any JWT library does on the application's side."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.unit.services.test_keys import key_file_holding_the_apps_key
from twostep.adapters.storage.secretbox import AesGcmSecretBox, FileKeyManager
from twostep.bootstrap import App
from twostep.domain.entities import Integration, Role
from twostep.domain.errors import (
    IntegrationNotFound,
    InvalidInput,
    ReturnUrlNotAllowed,
    SigninRequestExpired,
    SigninRequestInvalid,
    SigninRequestReplayed,
    SigninRequestSignature,
    SigninResultNotFound,
    SigninResultRedeemed,
    TenantNotFound,
)
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.sealing import signin_context
from twostep.services.admin import OPERATOR
from twostep.services.hosted_signin import AUDIENCE
from twostep.services.keys import rotate_secrets

pytestmark = pytest.mark.usefixtures("backend")

CALLBACK = "https://app.example.com/mfa/callback"


@dataclass
class Site:
    """An application set up for the hosted page: its integration, key and secret."""

    integration: Integration
    key: str
    secret: str
    user: builders.Enrolled

    def request(self, now: float, **claims: Any) -> str:
        body: dict[str, Any] = {
            "iss": self.integration.key_id,
            "aud": AUDIENCE,
            "sub": "alice",
            "redirect_uri": CALLBACK,
            "state": "s-1",
            "iat": math.floor(now),
            "exp": math.floor(now) + 300,
            "jti": "req-1",
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not ...}
        kid = self.integration.key_id
        # PyJWT's JWS layer: it signs any payload, even claims its JWT layer would refuse.
        payload = json.dumps(body).encode()
        return jwt.api_jws.encode(payload, self.secret, algorithm="HS256", headers={"kid": kid})


@pytest.fixture
def site(app: App) -> Site:
    integration, key = builders.integration(app, "web")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "web", [CALLBACK])
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "web")
    enrolled = builders.enrolled_user(app, "alice")
    return Site(integration, key, secret, enrolled)


def read_result(site: Site, token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        site.secret,
        algorithms=["HS256"],
        audience=site.integration.key_id,
        issuer="twostep",
        options={"verify_exp": False, "verify_iat": False},
    )
    return claims


def test_a_request_signs_in_through_the_one_flow_and_returns_a_signed_result(
    app: App, site: Site, clock: FakeClock
) -> None:
    request = app.hosted_signin.open(site.request(clock.now()))
    assert request.user == "alice" and request.state == "s-1"
    assert request.redirect_uri == CALLBACK and request.integration.id == site.integration.id
    decision = app.hosted_signin.sign_in(request, code=site.user.totp(clock.now()))
    assert decision.result is Result.ACCEPT
    issued = app.hosted_signin.issue(request, decision, "app_code")
    assert issued.url.startswith(CALLBACK + "?result=") and issued.url.endswith("&state=s-1")
    claims = read_result(site, issued.token)
    assert claims == {
        "iss": "twostep",
        "aud": site.integration.key_id,
        "sub": "alice",
        "result": "accept",
        "reason": None,
        "method": "app_code",
        "state": "s-1",
        "iat": math.floor(clock.now()),
        "exp": math.floor(clock.now()) + 60,
        "jti": issued.jti,
    }
    assert jwt.get_unverified_header(issued.token) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": site.integration.key_id,
    }
    # The one audit event of the attempt: the web interface, this integration.
    [event] = app.audit.query(OPERATOR, "default", user="alice")
    assert event.interface == "web" and event.integration == "web"
    assert event.result == "accept" and event.method == "app_code"


def test_a_wrong_code_gives_a_signed_reject(app: App, site: Site, clock: FakeClock) -> None:
    request = app.hosted_signin.open(site.request(clock.now()))
    decision = app.hosted_signin.sign_in(request, code="000000")
    assert decision.reason is Reason.INVALID_CODE
    claims = read_result(site, app.hosted_signin.issue(request, decision, "app_code").token)
    assert claims["result"] == "reject" and claims["reason"] == "invalid_code"


def test_a_challenge_is_not_a_result(app: App, site: Site, clock: FakeClock) -> None:
    request = app.hosted_signin.open(site.request(clock.now()))
    with pytest.raises(ValueError, match="challenge"):
        app.hosted_signin.issue(request, Decision(Result.CHALLENGE, transaction_id="t"), None)


def test_a_request_starts_one_sign_in(app: App, site: Site, clock: FakeClock) -> None:
    token = site.request(clock.now())
    app.hosted_signin.open(token)
    with pytest.raises(SigninRequestReplayed):
        app.hosted_signin.open(token)
    # The same jti from another integration is that integration's own.
    other, _key = builders.integration(app, "other")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "other", [CALLBACK])
    _c, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "other")
    theirs = Site(other, "", secret, site.user).request(clock.now())
    assert app.hosted_signin.open(theirs).integration.name == "other"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"aud": "someone-else"}, SigninRequestInvalid),
        ({"aud": ...}, SigninRequestInvalid),
        ({"sub": ""}, SigninRequestInvalid),
        ({"sub": "a" * 257}, SigninRequestInvalid),
        ({"sub": "ali\x00ce"}, SigninRequestInvalid),
        ({"sub": 7}, SigninRequestInvalid),
        ({"state": "s" * 513}, SigninRequestInvalid),
        ({"state": ...}, SigninRequestInvalid),
        ({"jti": ...}, SigninRequestInvalid),
        ({"jti": "has space"}, SigninRequestInvalid),
        ({"jti": "j" * 129}, SigninRequestInvalid),
        ({"iat": "1800000000"}, SigninRequestInvalid),
        ({"exp": True}, SigninRequestInvalid),
        ({"exp": ...}, SigninRequestInvalid),
        ({"redirect_uri": ...}, SigninRequestInvalid),
        ({"iss": "0000000000000000"}, SigninRequestSignature),
        ({"iss": 5}, SigninRequestSignature),
        ({"redirect_uri": "https://evil.example.com/mfa/callback"}, ReturnUrlNotAllowed),
        ({"redirect_uri": CALLBACK + "?next=/admin"}, ReturnUrlNotAllowed),
        ({"redirect_uri": CALLBACK + "/"}, ReturnUrlNotAllowed),
        ({"redirect_uri": "http://app.example.com/mfa/callback"}, ReturnUrlNotAllowed),
        (
            {"redirect_uri": "https://app.example.com@evil.example.com/mfa/callback"},
            ReturnUrlNotAllowed,
        ),
        ({"redirect_uri": "javascript:alert(1)"}, ReturnUrlNotAllowed),
    ],
)
def test_bad_claims_are_refused_with_a_stable_code(
    app: App, site: Site, clock: FakeClock, change: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        app.hosted_signin.open(site.request(clock.now(), **change))


def test_a_listed_url_is_matched_in_its_normal_form(app: App, site: Site, clock: FakeClock) -> None:
    given = "HTTPS://App.Example.COM:443/mfa/callback"
    request = app.hosted_signin.open(site.request(clock.now(), redirect_uri=given))
    assert request.redirect_uri == CALLBACK  # where the user goes: the listed URL, not the given


@pytest.mark.parametrize(
    ("iat", "exp"),
    [
        (-400, -1),  # expired
        (-300, 0),  # expires now
        (31, 300),  # issued in the future, beyond the clock skew
        (0, 601),  # lives over 10 minutes
        (10, 5),  # expires before it is issued
    ],
)
def test_requests_out_of_their_time_are_refused(
    app: App, site: Site, clock: FakeClock, iat: int, exp: int
) -> None:
    now = math.floor(clock.now())
    with pytest.raises(SigninRequestExpired):
        app.hosted_signin.open(site.request(now, iat=now + iat, exp=now + exp))


def test_a_little_clock_skew_is_allowed(app: App, site: Site, clock: FakeClock) -> None:
    now = math.floor(clock.now())
    app.hosted_signin.open(site.request(now, iat=now + 30, exp=now + 600))


def test_signatures_other_than_the_integrations_own_hs256_are_refused(
    app: App, site: Site, clock: FakeClock
) -> None:
    claims = jwt.decode(
        site.request(clock.now()), options={"verify_signature": False}, algorithms=["HS256"]
    )
    kid = {"kid": site.integration.key_id}
    forged = [
        jwt.encode(claims, "another secret of enough length!", algorithm="HS256", headers=kid),
        jwt.encode(claims, site.secret * 2, algorithm="HS384", headers=kid),
        jwt.encode(claims, None, algorithm="none", headers=kid),  # type: ignore[arg-type]
        jwt.encode(claims, site.secret, algorithm="HS256", headers={"kid": "someone"}),
        jwt.encode(claims, site.secret, algorithm="HS256"),  # no kid
        jwt.encode(claims, site.secret, algorithm="HS256", headers={**kid, "crit": ["exp"]}),
    ]
    for token in forged:
        with pytest.raises(SigninRequestSignature):
            app.hosted_signin.open(token)
    header, payload, signature = site.request(clock.now()).split(".")
    with pytest.raises(SigninRequestSignature):
        app.hosted_signin.open(f"{header}.{payload}.{signature[:-2]}AA")
    with pytest.raises(SigninRequestInvalid):
        app.hosted_signin.open(f"{header}.{payload}")


def test_a_rotated_secret_refuses_requests_signed_with_the_old_one(
    app: App, site: Site, clock: FakeClock
) -> None:
    old = site.request(clock.now())
    _config, site.secret = app.hosted_signin.issue_secret(OPERATOR, "default", "web")
    with pytest.raises(SigninRequestSignature):
        app.hosted_signin.open(old)
    app.hosted_signin.open(site.request(clock.now(), jti="req-2"))


def test_a_revoked_integration_or_one_without_a_secret_is_refused(
    app: App, site: Site, clock: FakeClock
) -> None:
    bare, _key = builders.integration(app, "bare")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "bare", [CALLBACK])
    token = Site(bare, "", site.secret, site.user).request(clock.now())
    with pytest.raises(SigninRequestSignature):
        app.hosted_signin.open(token)
    app.admin.revoke_integration(OPERATOR, "default", "web")
    with pytest.raises(SigninRequestSignature):
        app.hosted_signin.open(site.request(clock.now()))


def test_garbage_is_refused_as_invalid(app: App, site: Site) -> None:
    for token in ["", "a.b.c", "....", "x" * 5000, "eyJ9.eyJ9.AA", "é.é.é", "a.b.c.d"]:
        with pytest.raises((SigninRequestInvalid, SigninRequestSignature)):
            app.hosted_signin.open(token)


def test_a_result_is_redeemed_once_by_its_own_integration(
    app: App, site: Site, clock: FakeClock
) -> None:
    request = app.hosted_signin.open(site.request(clock.now()))
    decision = app.hosted_signin.sign_in(request, code=site.user.totp(clock.now()))
    issued = app.hosted_signin.issue(request, decision, "app_code")
    other, _key = builders.integration(app, "other")
    with pytest.raises(SigninResultNotFound):
        app.hosted_signin.redeem(other, issued.jti)
    app.hosted_signin.redeem(site.integration, issued.jti)
    with pytest.raises(SigninResultRedeemed):
        app.hosted_signin.redeem(site.integration, issued.jti)
    for unknown in ("nope", "", "x" * 200, "white space"):
        with pytest.raises(SigninResultNotFound):
            app.hosted_signin.redeem(site.integration, unknown)


def test_an_expired_result_cannot_be_redeemed_and_expired_rows_are_swept(
    app: App, site: Site, clock: FakeClock
) -> None:
    request = app.hosted_signin.open(site.request(clock.now()))
    decision = app.hosted_signin.sign_in(request, code=site.user.totp(clock.now()))
    issued = app.hosted_signin.issue(request, decision, "app_code")
    clock.advance(60)
    with pytest.raises(SigninResultNotFound):
        app.hosted_signin.redeem(site.integration, issued.jti)
    assert app.hosted_signin.sweep() == 1  # the result; the request lives until its exp
    clock.advance(300)
    assert app.hosted_signin.sweep() == 1
    assert app.hosted_signin.sweep() == 0


def test_admins_set_return_urls_and_secrets_and_each_change_is_recorded(
    app: App, site: Site
) -> None:
    config = app.hosted_signin.set_return_urls(
        OPERATOR,
        "default",
        "web",
        ["https://A.example.com/cb", "http://localhost:8000/cb", "https://a.example.com/cb"],
    )
    assert config.return_urls == ("https://a.example.com/cb", "http://localhost:8000/cb")
    assert config.key_id == site.integration.key_id and config.secret_issued_at is not None
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "web")
    assert secret.startswith("tss_") and len(secret) == 47 and secret != site.secret
    events = app.admin_events.query(OPERATOR, "default", limit=1000)
    urls = [e for e in events if e.action == "integration.signin_urls"]
    secrets_ = [e for e in events if e.action == "integration.signin_secret"]
    assert urls[-1].changes["return_urls"][1] == list(config.return_urls)
    assert [e.changes.get("secret") for e in secrets_] == [[None, "***"], ["***", "***"]]
    assert not any(secret in str(e.changes) or site.secret in str(e.changes) for e in events)


@pytest.mark.parametrize(
    "bad",
    [
        "http://app.example.com/cb",
        "https://*.example.com/cb",
        "https://user:pw@app.example.com/cb",
        "https://app.example.com/cb#x",
        "https://app.example.com/cb?next=1",
        "ftp://app.example.com/cb",
        "https:///cb",
        "https://app.example.com:0x50/cb",
        "https://app example.com/cb",
        "https://app.example.com\\@evil.com/cb",
        "",
    ],
)
def test_return_urls_out_of_the_rules_are_refused(app: App, site: Site, bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        app.hosted_signin.set_return_urls(OPERATOR, "default", "web", [bad])
    assert info.value.field == "return_urls"


def test_another_tenants_admin_and_unknown_integrations(app: App, site: Site) -> None:
    with pytest.raises(IntegrationNotFound):
        app.hosted_signin.issue_secret(OPERATOR, "default", "nope")
    app.admin.create_tenant(OPERATOR, "acme")
    admin, _key = app.admin.create_admin_key(OPERATOR, "acme-admin", Role.TENANT_ADMIN, "acme")
    with pytest.raises(TenantNotFound):
        app.hosted_signin.config(admin, "default", "web")


def test_rotating_the_secret_key_re_encrypts_the_signing_secret(
    app: App, site: Site, tmp_path: Path
) -> None:
    manager = FileKeyManager(key_file_holding_the_apps_key(app, tmp_path))
    assert rotate_secrets(app.deps, manager, OPERATOR).reencrypted == 2  # alice's seed, it
    new_box = AesGcmSecretBox(manager.key_file.load_or_create())
    with app.storage.transaction() as tx:
        settings = tx.signin.settings(site.integration.id)
    assert settings is not None and settings.sealed_secret is not None
    opened = new_box.open(settings.sealed_secret, signin_context(str(site.integration.id)))
    assert opened == site.secret.encode()
