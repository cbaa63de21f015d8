"""DeviceClient in-process over httpx.MockTransport: requests on the wire, error mapping."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.unit.authenticator.fake_server import b64url_decode, verify
from twostep.authenticator.client import DeviceClient
from twostep.authenticator.errors import (
    AccountNotActivated,
    ActivationInvalid,
    DeviceApiError,
    ProtocolError,
    ServerUnreachable,
)
from twostep.authenticator.model import Decision, SignInRequest
from twostep.authenticator.signing import DeviceKey, KeyType

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, key: DeviceKey | None = None) -> DeviceClient:
    return DeviceClient(
        "https://mfa.example.com/base/",
        device_id="dev_1" if key else None,
        key=key,
        transport=httpx.MockTransport(handler),
        clock=lambda: 1795000000.9,
    )


def activation_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "device_id": "dev_1",
        "tenant": "default",
        "user": "alice",
        "issuer": "Twostep",
        "totp": {"secret": "GEZDGNBVGY3TQOJQ", "algorithm": "SHA1", "digits": 6, "period": 30},
        "server_time": 1795000000.0,
    }
    return {**body, **changes}


def test_activate_posts_the_public_key_unsigned() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=activation_body())

    key = DeviceKey.generate(KeyType.P256)
    with client(handler) as c:
        done = c.activate("ABCD1234", key, name="phone", push={"kind": "ntfy", "url": "u"})
    (request,) = seen
    assert str(request.url) == "https://mfa.example.com/base/v1/devices/activate"
    assert "authorization" not in request.headers
    body = json.loads(request.content)
    assert body == {
        "code": "ABCD1234",
        "key_type": "p256",
        "public_key": key.public_key_b64(),
        "name": "phone",
        "platform": "reference",
        "push": {"kind": "ntfy", "url": "u"},
    }
    assert (done.device_id, done.user, done.totp.digits) == ("dev_1", "alice", 6)
    assert c.device_id == "dev_1" and c.key is key


def test_requests_are_signed_over_the_path_on_the_wire_and_wait_is_capped() -> None:
    key = DeviceKey.generate()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"requests": [{"transaction_id": "t", "nonce": "n"}]})

    with client(handler, key) as c:
        (found,) = c.requests(wait=90)
        c.requests(wait=0.2)
    assert found == SignInRequest(transaction_id="t", nonce="n")
    assert [r.url.params["wait"] for r in seen] == ["30", "1"]
    assert seen[0].extensions["timeout"]["read"] > 30
    header = seen[0].headers["authorization"]
    assert header.startswith("TwostepDevice id=dev_1, ts=1795000000, sig=")
    message = b"GET\n/base/v1/devices/dev_1/requests?wait=30\n1795000000"
    assert verify("ed25519", key.public_bytes(), b64url_decode(header.split("sig=")[1]), message)


def test_answer_body_signature_and_quoted_transaction_id() -> None:
    key = DeviceKey.generate()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"result": "reject", "reason": "wrong_number"})

    with client(handler, key) as c:
        result = c.answer(SignInRequest("tx/1", "bm9uY2U"), Decision.APPROVE, 42)
        c.answer(SignInRequest("tx2", "n2"), "deny")
    assert (result.accepted, result.reason) == (False, "wrong_number")
    first, second = seen
    assert first.url.raw_path == b"/base/v1/devices/dev_1/requests/tx%2F1"
    body = json.loads(first.content)
    assert body["decision"] == "approve" and body["number"] == 42 and body["nonce"] == "bm9uY2U"
    message = b"twostep-push-v1\ntx/1\napprove\n42\nbm9uY2U"
    assert verify("ed25519", key.public_bytes(), b64url_decode(body["signature"]), message)
    signed = first.headers["authorization"].split("sig=")[1]
    path_message = b"POST\n/base/v1/devices/dev_1/requests/tx%2F1\n1795000000"
    assert verify("ed25519", key.public_bytes(), b64url_decode(signed), path_message)
    assert "number" not in json.loads(second.content)


def test_approving_needs_a_number() -> None:
    with (
        client(lambda r: httpx.Response(500), DeviceKey.generate()) as c,
        pytest.raises(ValueError, match="number"),
    ):
        c.answer(SignInRequest("t", "n"), Decision.APPROVE)


def test_a_client_without_device_cannot_call() -> None:
    with client(lambda r: httpx.Response(500)) as c, pytest.raises(RuntimeError, match="activate"):
        c.requests()


def answering(response: httpx.Response) -> Handler:
    return lambda _: response


def error(status: int, code: str, message: str = "m") -> Handler:
    return lambda _: httpx.Response(status, json={"error": {"code": code, "message": message}})


def test_account_not_activated_tells_to_remove_and_activate_again() -> None:
    handler = error(
        403, "account_not_activated", "Authentication request is not for an activated account"
    )
    with client(handler, DeviceKey.generate()) as c, pytest.raises(AccountNotActivated) as caught:
        c.requests()
    text = str(caught.value)
    assert text.startswith("Authentication request is not for an activated account.")
    assert "twostep-authenticator remove dev_1" in text and "activate it again" in text
    assert caught.value.status == 403 and caught.value.device_id == "dev_1"


def test_activation_invalid() -> None:
    with client(error(404, "activation_invalid")) as c, pytest.raises(ActivationInvalid) as caught:
        c.activate("ABCD1234", DeviceKey.generate())
    assert caught.value.code == "activation_invalid" and c.device_id is None


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (
            httpx.Response(401, json={"error": {"code": "unauthenticated", "message": "x"}}),
            "unauthenticated",
        ),
        (httpx.Response(502, text="<html>bad gateway</html>"), "http_error"),
        (httpx.Response(500, json={"detail": "x"}), "http_error"),
    ],
)
def test_other_errors(response: httpx.Response, code: str) -> None:
    with (
        client(lambda _: response, DeviceKey.generate()) as c,
        pytest.raises(DeviceApiError) as caught,
    ):
        c.requests()
    assert caught.value.code == code and caught.value.status == response.status_code


def test_unreachable_and_malformed_answers() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    key = DeviceKey.generate()
    with client(refuse, key) as c, pytest.raises(ServerUnreachable, match="cannot reach"):
        c.requests()
    with client(slow, key) as c, pytest.raises(ServerUnreachable, match="in time"):
        c.requests()
    payloads: list[object] = [{"requests": "no"}, {"requests": [{"transaction_id": "t"}]}, []]
    for payload in payloads:
        reply = httpx.Response(200, json=payload)
        with client(answering(reply), key) as c, pytest.raises(ProtocolError):
            c.requests()
    text = httpx.Response(200, text="ok")
    with client(lambda _: text, key) as c, pytest.raises(ProtocolError, match="without JSON"):
        c.requests()
    no_totp = httpx.Response(201, json=activation_body(totp=None))
    with client(lambda _: no_totp) as c, pytest.raises(ProtocolError):
        c.activate("ABCD1234", key)
