"""The HS256 token format (domain/signed_tokens.py) against PyJWT, an independent
implementation, and its strictness: one spelling per token, one algorithm, bounded size,
JSON objects without repeated keys; anything else is one of two stable errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twostep.domain import signed_tokens
from twostep.domain.errors import SigninRequestInvalid, SigninRequestSignature

KEY = b"tss_" + b"k" * 43


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(header: bytes, payload: bytes, key: bytes = KEY) -> str:
    head, body = b64(header), b64(payload)
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def test_our_tokens_are_read_by_pyjwt_and_pyjwts_by_us() -> None:
    claims = {"iss": "twostep", "sub": "이서연", "n": 1}
    ours = signed_tokens.encode(claims, KEY, "kid-1")
    assert jwt.get_unverified_header(ours) == {"alg": "HS256", "typ": "JWT", "kid": "kid-1"}
    assert jwt.decode(ours, KEY, algorithms=["HS256"]) == claims
    theirs = jwt.encode(claims, KEY, algorithm="HS256", headers={"kid": "kid-2"})
    parsed = signed_tokens.parse(theirs)
    parsed.verify(KEY)
    assert parsed.claims == claims and parsed.kid == "kid-2"


@pytest.mark.parametrize(
    "token",
    [
        signed(b'{"alg":"HS256"}', b'{"a":1,"a":2}'),  # a repeated claim
        signed(b'{"alg":"HS256","alg":"HS256"}', b"{}"),  # a repeated header key
        signed(b'{"alg":"HS256"}', b'{"exp":NaN}'),
        signed(b'{"alg":"HS256"}', b"[1,2]"),
        signed(b'{"alg":"HS256"}', b"\xff\xfe"),
        signed(b'{"alg":"HS256","typ":"JOSE+JSON"}', b"{}"),
        signed(b'{"alg":"HS256"}', b"[" * 3000 + b"]" * 3000),  # too long anyway
        signed(b'{"alg":"HS256"}', b"{}") + "=",  # padded
        signed(b'{"alg":"HS256"}', b"{}").replace("-", "+"),
        "a" * 5000,
        "",
        "one.two",
    ],
)
def test_malformed_tokens_are_invalid(token: str) -> None:
    with pytest.raises(SigninRequestInvalid):
        signed_tokens.parse(token)


@pytest.mark.parametrize(
    "header", [b'{"alg":"none"}', b'{"alg":"HS512"}', b"{}", b'{"alg":"HS256","crit":["b64"]}']
)
def test_only_hs256_without_extensions_is_read(header: bytes) -> None:
    with pytest.raises(SigninRequestSignature):
        signed_tokens.parse(signed(header, b"{}"))


def test_a_last_character_with_unused_bits_is_not_the_same_token() -> None:
    """``AB`` and ``AA`` may decode to the same byte; only the canonical one is read."""
    token = signed(b'{"alg":"HS256"}', b"{}")
    head, body, mac = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = mac[:-1] + alphabet[alphabet.index(mac[-1]) ^ 1]  # 256 bits in 43 characters:
    assert base64.urlsafe_b64decode(twin + "=") == base64.urlsafe_b64decode(mac + "=")  # 2 spare
    with pytest.raises(SigninRequestInvalid):
        signed_tokens.parse(f"{head}.{body}.{twin}")


def test_the_mac_is_checked() -> None:
    parsed = signed_tokens.parse(signed(b'{"alg":"HS256"}', b"{}"))
    parsed.verify(KEY)
    with pytest.raises(SigninRequestSignature):
        parsed.verify(b"another key")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.from_regex(r"[A-Za-z0-9_\-]{0,40}(\.[A-Za-z0-9_\-]{0,40}){2}"))
def test_garbage_raises_only_the_two_errors(token: str) -> None:
    try:
        signed_tokens.parse(token).verify(KEY)
    except (SigninRequestInvalid, SigninRequestSignature):
        return
    pytest.fail("garbage verified")


def test_json_layout_does_not_matter_to_the_mac() -> None:
    """The MAC covers the base64url text as sent, whatever the JSON's spacing."""
    spaced = json.dumps({"alg": "HS256", "typ": "JWT"}, indent=2).encode()
    parsed = signed_tokens.parse(signed(spaced, b'{ "a" : 1 }'))
    parsed.verify(KEY)
    assert parsed.claims == {"a": 1}
