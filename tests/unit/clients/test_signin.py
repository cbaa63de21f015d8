"""The application's helper (twostep.clients.signin): its requests are what the server
accepts, it accepts the server's results, and it refuses everything else with
``SigninError`` only: tampered or foreign tokens built by hand here, and garbage."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.clients import signin
from twostep.domain.errors import ReturnUrlNotAllowed, SigninRequestReplayed
from twostep.services.admin import OPERATOR

CALLBACK = "https://app.example.com/mfa/callback"
KEY_ID = "0123456789abcdef"
SECRET = "tss_" + "k" * 43
NOW = 1_800_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(
    claims: dict[str, Any], *, secret: str = SECRET, header: dict[str, Any] | None = None
) -> str:
    """A token built by hand, the way RFC 7515 describes it."""
    head = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}).encode())
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def result_claims(**change: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": "twostep",
        "aud": KEY_ID,
        "sub": "alice",
        "result": "accept",
        "reason": None,
        "method": "app_code",
        "state": "s-1",
        "iat": int(NOW),
        "exp": int(NOW) + 60,
        "jti": "r-1",
    }
    claims.update(change)
    return {k: v for k, v in claims.items() if v is not ...}


def verify(token: str, **given: Any) -> signin.Result:
    options: dict[str, Any] = {"key_id": KEY_ID, "secret": SECRET, "state": "s-1", "now": NOW}
    return signin.verify_result(token, **(options | given))


def test_a_well_made_result_verifies() -> None:
    result = verify(hand_made(result_claims()))
    assert result == signin.Result(
        user="alice",
        result="accept",
        reason=None,
        method="app_code",
        state="s-1",
        jti="r-1",
        issued_at=NOW,
        expires_at=NOW + 60,
    )
    assert result.accepted
    rejected = verify(hand_made(result_claims(result="reject", reason="invalid_code")))
    assert not rejected.accepted and rejected.reason == "invalid_code"


def test_pyjwt_made_results_verify_and_helper_requests_decode_with_pyjwt() -> None:
    token = jwt.encode(result_claims(), SECRET, algorithm="HS256", headers={"kid": KEY_ID})
    assert verify(token).user == "alice"
    url = signin.make_request(
        "https://mfa.example.com/",
        key_id=KEY_ID,
        secret=SECRET,
        user="alice",
        redirect_uri=CALLBACK,
        state="s-1",
        now=NOW,
        jti="j-1",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "mfa.example.com", "/signin")
    [request] = parse_qs(parts.query)["request"]
    assert jwt.get_unverified_header(request) == {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}
    claims = jwt.decode(
        request,
        SECRET,
        algorithms=["HS256"],
        audience="twostep:signin",
        issuer=KEY_ID,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": KEY_ID,
        "aud": "twostep:signin",
        "sub": "alice",
        "redirect_uri": CALLBACK,
        "state": "s-1",
        "iat": int(NOW),
        "exp": int(NOW) + 300,
        "jti": "j-1",
    }


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (hand_made(result_claims(), secret="another secret"), "bad_signature"),
        (hand_made(result_claims(), header={"alg": "none", "typ": "JWT"}), "bad_signature"),
        (hand_made(result_claims(), header={"alg": "HS512"}), "bad_signature"),
        (hand_made(result_claims(), header={"alg": "HS256", "crit": ["x"]}), "bad_signature"),
        (hand_made(result_claims(iss="someone")), "wrong_issuer"),
        (hand_made(result_claims(aud="fedcba9876543210")), "wrong_audience"),
        (hand_made(result_claims(aud=[KEY_ID])), "wrong_audience"),
        (hand_made(result_claims(exp=int(NOW) - 5)), "expired"),
        (hand_made(result_claims(iat=int(NOW) + 6)), "not_yet_valid"),
        (hand_made(result_claims(state="s-2")), "wrong_state"),
        (hand_made(result_claims(state=...)), "malformed"),
        (hand_made(result_claims(result="maybe")), "malformed"),
        (hand_made(result_claims(exp="soon")), "malformed"),
        (hand_made(result_claims(iat=True)), "malformed"),
        (hand_made(result_claims(sub=None)), "malformed"),
        (hand_made(result_claims(jti=...)), "malformed"),
        (hand_made(result_claims(method=5)), "malformed"),
        ("", "malformed"),
        ("a.b", "malformed"),
        ("a.b.c.d", "malformed"),
        ("x" * 9000, "malformed"),
    ],
)
def test_untrustworthy_results_are_refused_with_their_code(token: str, code: str) -> None:
    with pytest.raises(signin.SigninError) as info:
        verify(token)
    assert info.value.code == code


def test_alg_none_without_a_signature_is_refused() -> None:
    head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64(json.dumps(result_claims()).encode())
    with pytest.raises(signin.SigninError) as info:
        verify(f"{head}.{body}.")
    assert info.value.code == "bad_signature"


def test_each_part_tampered_is_refused() -> None:
    head, body, mac = hand_made(result_claims()).split(".")
    other_body = b64(json.dumps(result_claims(sub="mallory")).encode())
    other_head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "x"}).encode())
    flipped = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BA")
    for token in (
        f"{head}.{other_body}.{mac}",
        f"{other_head}.{body}.{mac}",
        f"{head}.{body}.{flipped}",
    ):
        with pytest.raises(signin.SigninError) as info:
            verify(token)
        assert info.value.code == "bad_signature"
    with pytest.raises(signin.SigninError) as info:  # the same bytes, spelt with padding
        verify(f"{head}.{body}.{mac}=")
    assert info.value.code == "malformed"


def test_repeated_claims_are_refused() -> None:
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(b'{"iss":"twostep","aud":"' + KEY_ID.encode() + b'","sub":"alice","sub":"bob"}')
    mac = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(signin.SigninError) as info:
        verify(f"{head}.{body}.{b64(mac)}")
    assert info.value.code == "malformed"


@pytest.mark.parametrize(
    "arguments",
    [{"lifetime": 601}, {"lifetime": 0}, {"state": "s" * 513}, {"user": ""}, {"secret": ""}],
)
def test_make_request_refuses_what_the_server_would(arguments: dict[str, Any]) -> None:
    given: dict[str, Any] = {
        "key_id": KEY_ID,
        "secret": SECRET,
        "user": "alice",
        "redirect_uri": CALLBACK,
        "state": "s",
    }
    with pytest.raises(ValueError):
        signin.make_request("https://mfa.example.com", **(given | arguments))


_TEXT = st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_\-.=]{0,200}", fullmatch=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(token=_TEXT | st.binary(max_size=200) | st.integers() | st.none())
def test_garbage_raises_only_signin_error(token: Any) -> None:
    try:
        verify(token)
    except signin.SigninError as exc:
        assert exc.code in {"malformed", "bad_signature"}
    else:
        pytest.fail("garbage verified")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    header=st.dictionaries(st.text(max_size=8), _JSON, max_size=4),
    claims=st.dictionaries(
        st.sampled_from(["iss", "aud", "sub", "result", "state", "iat", "exp", "jti", "x"]),
        _JSON,
        max_size=9,
    ),
    signed=st.booleans(),
)
def test_well_formed_tokens_with_any_claims_raise_only_signin_error(
    header: dict[str, Any], claims: dict[str, Any], signed: bool
) -> None:
    """Correctly signed (or not) tokens with arbitrary headers and claims: verified only
    when every check passes, else ``SigninError``; never another exception."""
    header = {**header, "alg": "HS256"} if signed else header
    token = hand_made(claims, header=header)
    try:
        result = verify(token)
    except signin.SigninError:
        return
    assert claims["iss"] == "twostep" and claims["aud"] == KEY_ID and claims["state"] == "s-1"
    assert result.result in ("accept", "reject")


# -- against the server's service --------------------------------------------------------


@pytest.fixture
def server(app: App) -> tuple[App, str, str, builders.Enrolled]:
    integration, _key = builders.integration(app, "web")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "web", [CALLBACK])
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "web")
    return app, integration.key_id, secret, builders.enrolled_user(app, "alice")


def test_round_trip_through_the_server(
    server: tuple[App, str, str, builders.Enrolled], clock: FakeClock
) -> None:
    app, key_id, secret, alice = server
    url = signin.make_request(
        "http://127.0.0.1:8080",
        key_id=key_id,
        secret=secret,
        user="alice",
        redirect_uri=CALLBACK,
        state="a state with spaces & symbols ✓",
        now=clock.now(),
    )
    [token] = parse_qs(urlsplit(url).query)["request"]
    request = app.hosted_signin.open(token)
    decision = app.hosted_signin.sign_in(request, code=alice.totp(clock.now()))
    issued = app.hosted_signin.issue(request, decision, "app_code")
    back = parse_qs(urlsplit(issued.url).query)
    assert back["state"] == ["a state with spaces & symbols ✓"]
    [result_token] = back["result"]
    result = signin.verify_result(
        result_token,
        key_id=key_id,
        secret=secret,
        state="a state with spaces & symbols ✓",
        now=clock.now(),
    )
    assert result.accepted and result.user == "alice" and result.method == "app_code"
    assert result.jti == issued.jti and result.expires_at == math.floor(clock.now()) + 60
    with pytest.raises(signin.SigninError) as info:  # another session's state
        signin.verify_result(result_token, key_id=key_id, secret=secret, state="x", now=clock.now())
    assert info.value.code == "wrong_state"
    with pytest.raises(signin.SigninError) as info:  # 60 s later, past the leeway
        signin.verify_result(
            result_token, key_id=key_id, secret=secret, state=result.state, now=clock.now() + 65
        )
    assert info.value.code == "expired"
    with pytest.raises(SigninRequestReplayed):  # the request link starts one sign-in
        app.hosted_signin.open(token)


def test_the_server_refuses_a_helper_request_to_an_unlisted_url(
    server: tuple[App, str, str, builders.Enrolled], clock: FakeClock
) -> None:
    app, key_id, secret, _alice = server
    url = signin.make_request(
        "http://127.0.0.1:8080",
        key_id=key_id,
        secret=secret,
        user="alice",
        redirect_uri="https://evil.example.com/",
        state="s",
        now=clock.now(),
    )
    with pytest.raises(ReturnUrlNotAllowed):
        app.hosted_signin.open(parse_qs(urlsplit(url).query)["request"][0])
