"""Just enough of the device API (docs/device-api.md) on loopback to drive the reference
authenticator, checking what it sends the way the real server will: the Authorization
header's signature over ``METHOD\\npath?query\\nts`` (within 60 s), and each answer's
signature over ``twostep-push-v1\\n<tx>\\n<decision>\\n<number or empty>\\n<nonce>``.

Verification is written here from the spec with ``cryptography`` alone, not with the
authenticator's own signing module, so the two are checked against each other.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

AUTH = re.compile(r"TwostepDevice id=([^,\s]+), ts=(\d+), sig=([A-Za-z0-9_-]+)")
TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's "12345678901234567890"


def b64url_decode(text: str) -> bytes:
    if "=" in text:
        raise ValueError("padding is not allowed")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify(key_type: str, public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        if key_type == "ed25519":
            ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        else:
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
            point.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


@dataclass
class Device:
    device_id: str
    tenant: str
    user: str
    key_type: str
    public_key: bytes
    body: dict[str, Any]
    active: bool = True


@dataclass
class PendingRequest:
    transaction_id: str
    nonce: str
    number: int
    integration: str = "vpn"
    client_ip: str = "203.0.113.7"
    message: str = "Approve sign-in to VPN?"
    created_at: float = field(default_factory=time.time)
    lifetime: float = 60.0

    def to_json(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "integration": self.integration,
            "client_ip": self.client_ip,
            "created_at": self.created_at,
            "expires_at": self.created_at + self.lifetime,
            "message": self.message,
            "nonce": self.nonce,
        }


@dataclass
class Answer:
    device_id: str
    transaction_id: str
    body: dict[str, Any]
    result: str
    reason: str | None


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class FakeServer:
    def __init__(self) -> None:
        self.url = ""
        self.lock = threading.Lock()
        self.codes: dict[str, tuple[str, str]] = {}
        self.devices: dict[str, Device] = {}
        self.pending: dict[str, list[PendingRequest]] = {}
        self.answers: list[Answer] = []
        self.signed: list[str] = []  # every Authorization message that verified
        self.polls: list[int] = []  # the wait of every long-poll
        self.app = Starlette(
            routes=[
                Route("/v1/devices/activate", self.activate, methods=["POST"]),
                Route("/v1/devices/{device}/requests", self.requests, methods=["GET"]),
                Route("/v1/devices/{device}/requests/{tx}", self.answer, methods=["POST"]),
            ]
        )

    # -- what a test does -------------------------------------------------------------

    def add_code(self, code: str, tenant: str = "default", user: str = "alice") -> None:
        self.codes[code.replace("-", "").upper()] = (tenant, user)

    def push(self, device_id: str, number: int = 42, **fields: Any) -> PendingRequest:
        request = PendingRequest(
            transaction_id=f"tx_{secrets.token_hex(6)}",
            nonce=base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("="),
            number=number,
            **fields,
        )
        with self.lock:
            self.pending.setdefault(device_id, []).append(request)
        return request

    def only_device(self) -> Device:
        (device,) = self.devices.values()
        return device

    # -- the device API ---------------------------------------------------------------

    async def activate(self, request: Request) -> JSONResponse:
        body = await request.json()
        code = str(body.get("code", "")).replace("-", "").upper()
        if code not in self.codes:
            return error(404, "activation_invalid", "Unknown, used or expired activation code")
        key_type, raw = body.get("key_type"), body.get("public_key", "")
        public = b64url_decode(raw)
        ok = (key_type == "ed25519" and len(public) == 32) or (
            key_type == "p256" and len(public) == 65 and public[0] == 4
        )
        push = body.get("push")
        if not ok or not isinstance(push, dict) or push.get("kind") not in ("pull", "ntfy", "fcm"):
            return error(422, "invalid_request", "bad key or push channel")
        tenant, user = self.codes.pop(code)
        device_id = f"dev_{secrets.token_hex(8)}"
        self.devices[device_id] = Device(device_id, tenant, user, key_type, public, body)
        return JSONResponse(
            {
                "device_id": device_id,
                "tenant": tenant,
                "user": user,
                "issuer": "Twostep",
                "totp": {
                    "secret": TOTP_SECRET,
                    "algorithm": "SHA1",
                    "digits": 6,
                    "period": 30,
                    "otpauth_uri": f"otpauth://totp/Twostep:{user}?secret={TOTP_SECRET}",
                },
                "server_time": time.time(),
            },
            status_code=201,
        )

    def _authenticate(self, request: Request) -> Device | JSONResponse:
        match = AUTH.fullmatch(request.headers.get("authorization", ""))
        device = self.devices.get(request.path_params["device"])
        if match is None or device is None or match[1] != device.device_id:
            return error(401, "unauthenticated", "missing or malformed device signature")
        ts = int(match[2])
        if abs(time.time() - ts) > 60:
            return error(401, "unauthenticated", "the signature's time is off")
        path = request.scope["raw_path"].decode()
        if request.scope["query_string"]:
            path += "?" + request.scope["query_string"].decode()
        message = f"{request.method}\n{path}\n{ts}"
        if not verify(
            device.key_type, device.public_key, b64url_decode(match[3]), message.encode()
        ):
            return error(401, "unauthenticated", "the device signature does not verify")
        if not device.active:
            return error(
                403,
                "account_not_activated",
                "Authentication request is not for an activated account",
            )
        self.signed.append(message)
        return device

    async def requests(self, request: Request) -> JSONResponse:
        device = self._authenticate(request)
        if isinstance(device, JSONResponse):
            return device
        wait = int(request.query_params.get("wait", "0"))
        if not 0 <= wait <= 30:
            return error(422, "invalid_request", "wait is 0 to 30")
        self.polls.append(wait)
        deadline = time.monotonic() + wait
        while True:
            with self.lock:
                pending = list(self.pending.get(device.device_id, []))
            if pending or time.monotonic() >= deadline:
                return JSONResponse({"requests": [p.to_json() for p in pending]})
            await asyncio.sleep(0.02)

    async def answer(self, request: Request) -> JSONResponse:
        device = self._authenticate(request)
        if isinstance(device, JSONResponse):
            return device
        tx = request.path_params["tx"]
        with self.lock:
            pending = self.pending.get(device.device_id, [])
            found = [p for p in pending if p.transaction_id == tx]
            if not found:
                return error(404, "transaction_not_found", "no such pending request")
            pending.remove(found[0])
        body = await request.json()
        result, reason = self._decide(device, found[0], body)
        self.answers.append(Answer(device.device_id, tx, body, result, reason))
        return JSONResponse({"result": result, **({"reason": reason} if reason else {})})

    @staticmethod
    def _decide(
        device: Device, pending: PendingRequest, body: dict[str, Any]
    ) -> tuple[str, str | None]:
        decision, number = body.get("decision"), body.get("number")
        shown = "" if number is None else str(number)
        message = (
            f"twostep-push-v1\n{pending.transaction_id}\n{decision}\n{shown}\n{body.get('nonce')}"
        )
        signature = b64url_decode(str(body.get("signature", "")))
        if body.get("nonce") != pending.nonce or not verify(
            device.key_type, device.public_key, signature, message.encode()
        ):
            return "reject", "invalid_signature"
        if decision == "fraud":
            return "reject", "fraud_reported"
        if decision != "approve":
            return "reject", "denied"
        if number != pending.number:
            return "reject", "wrong_number"
        return "accept", None


@contextmanager
def running(server: FakeServer) -> Iterator[FakeServer]:
    """Serve ``server`` with uvicorn in a thread on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        server.app,
        log_level="warning",
        lifespan="off",
        ws="none",
        http="h11",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake device API did not start")
        time.sleep(0.01)
    server.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield server
    finally:
        uv.should_exit = True
        thread.join(10)
        sock.close()
