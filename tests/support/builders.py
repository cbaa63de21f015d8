"""Small builders for test subjects: users with methods, integrations, codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from twostep.bootstrap import App
from twostep.domain.entities import Integration, Method, MfaState, OtpParams, OtpType
from twostep.domain.ports.users import NewUser
from twostep.factors import otp
from twostep.services.admin import OPERATOR
from twostep.services.enroll import TokenSpec


@dataclass
class Enrolled:
    user: str
    method: Method
    seed: bytes
    params: OtpParams

    def totp(self, now: float, offset_steps: int = 0) -> str:
        step = otp.time_step(now, self.params.period) + offset_steps
        return otp.hotp(self.seed, self.params, step)

    def hotp(self, counter: int) -> str:
        return otp.hotp(self.seed, self.params, counter)


def integration(app: App, name: str = "vpn", tenant: str = "default") -> tuple[Integration, str]:
    return app.admin.create_integration(OPERATOR, tenant, name)


def user(app: App, name: str = "alice", tenant: str = "default", **fields: object) -> None:
    app.admin.create_user(OPERATOR, tenant, NewUser(name=name, **fields))  # type: ignore[arg-type]


def token(
    app: App,
    name: str = "alice",
    *,
    tenant: str = "default",
    params: OtpParams | None = None,
    serial: str | None = None,
    counter: int = 0,
) -> Enrolled:
    params = params or OtpParams(type=OtpType.HOTP)
    seed = secrets.token_bytes(20)
    method = app.enroll.enroll_oath_token(
        OPERATOR,
        tenant,
        name,
        TokenSpec(serial or f"T{secrets.token_hex(4)}", "hex:" + seed.hex(), params, counter),
    )
    return Enrolled(name, method, seed, params)


def app_code(app: App, name: str = "alice", tenant: str = "default") -> Enrolled:
    """Enroll and confirm an authenticator app, as the user would with a scanned QR."""
    enrollment = app.enroll.enroll_app_code(OPERATOR, tenant, name)
    secret = enrollment.otpauth_uri.split("secret=")[1].split("&")[0]
    seed = otp.parse_seed(secret)
    params = enrollment.method.otp
    assert params is not None
    enrolled = Enrolled(name, enrollment.method, seed, params)
    now = app.deps.clock.now()
    # Confirm with the previous step's code so the current one stays fresh for the test.
    app.enroll.confirm(OPERATOR, tenant, name, enrollment.method.id, enrolled.totp(now, -1))
    return enrolled


def enrolled_user(app: App, name: str = "alice", mfa: MfaState = MfaState.ENFORCED) -> Enrolled:
    user(app, name, mfa=mfa)
    return app_code(app, name)
