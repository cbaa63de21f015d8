"""A stand-in for a phone: its own key pair, activated, signing as docs/device-api.md says."""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from twostep.bootstrap import App
from twostep.factors import app_push
from twostep.services.admin import OPERATOR
from twostep.services.devices import Activated, DeviceKey


@dataclass
class FakeDevice:
    key_type: str
    private: Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    activated: Activated | None = None
    device_id: str | None = None  # when activated over HTTP rather than in-process

    @classmethod
    def new(cls, key_type: str = "ed25519") -> FakeDevice:
        if key_type == "ed25519":
            return cls(key_type, Ed25519PrivateKey.generate())
        return cls(key_type, ec.generate_private_key(ec.SECP256R1()))

    @property
    def id(self) -> str:
        if self.device_id is not None:
            return self.device_id
        assert self.activated is not None
        return self.activated.device.id

    def public_key(self) -> str:
        if isinstance(self.private, Ed25519PrivateKey):
            raw = self.private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        else:
            raw = self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return app_push.b64encode(raw)

    def sign(self, message: bytes) -> str:
        if isinstance(self.private, Ed25519PrivateKey):
            return app_push.b64encode(self.private.sign(message))
        return app_push.b64encode(self.private.sign(message, ec.ECDSA(hashes.SHA256())))

    def key(self, name: str = "test phone") -> DeviceKey:
        return DeviceKey(self.key_type, self.public_key(), name, "test", {"kind": "pull"})

    def activate(self, app: App, user: str = "alice", tenant: str = "default") -> FakeDevice:
        started = app.devices.start_activation(OPERATOR, tenant, user)
        self.activated = app.devices.activate(started.code, self.key())
        return self

    def header(self, method: str, path: str, now: float | None = None) -> str:
        ts = int(time.time() if now is None else now)
        sig = self.sign(app_push.request_string(method, path, ts))
        return f"TwostepDevice id={self.id}, ts={ts}, sig={sig}"

    def answer(self, transaction_id: str, decision: str, number: int | None, nonce: str) -> str:
        return self.sign(app_push.answer_string(transaction_id, decision, number, nonce))
