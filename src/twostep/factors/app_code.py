"""``app_code``: a TOTP code from an authenticator app (Google/Microsoft Authenticator,
Aegis, FreeOTP), enrolled with an ``otpauth://`` URI and confirmed with one code."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from twostep.domain.entities import (
    Method,
    MethodKind,
    MethodStatus,
    OtpAlgorithm,
    OtpParams,
    OtpType,
)
from twostep.domain.settings import TenantSettings
from twostep.factors import otp
from twostep.factors.base import CodeMatch, Draft, EnrollContext, Family, Fields, Kind


class AppCodeFactor:
    def new_params(self, settings: TenantSettings) -> OtpParams:
        return OtpParams(
            type=OtpType.TOTP,
            algorithm=OtpAlgorithm(settings.otp.app_code_algorithm),
            digits=settings.otp.app_code_digits,
            period=settings.otp.app_code_period,
        )

    def match(
        self, method: Method, seed: bytes, code: str, now: float, settings: TenantSettings
    ) -> CodeMatch | None:
        assert method.otp is not None
        step = otp.match_totp(seed, method.otp, code, now, settings.otp.totp_window, method.drift)
        return None if step is None else CodeMatch(step=step)


def provisioning_uri(seed: bytes, params: OtpParams, issuer: str, account: str) -> str:
    """The Key Uri Format (``otpauth://totp/Issuer:account?secret=...``).

    The issuer goes both in the label prefix and the parameter: older apps read only
    the prefix, newer ones prefer the parameter.
    """
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {
            "secret": otp.b32encode(seed),
            "issuer": issuer,
            "algorithm": params.algorithm.value,
            "digits": params.digits,
            "period": params.period,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def make(fields: Fields, context: EnrollContext) -> Draft:
    """A fresh seed with the tenant's app_code parameters, pending until one code confirms
    it; the otpauth URI (it carries the seed) is shown once, to the enrolling user."""
    params = FACTOR.new_params(context.settings)
    seed = otp.new_seed(params.algorithm)
    uri = provisioning_uri(seed, params, context.settings.issuer, context.user_name)
    return Draft(
        status=MethodStatus.PENDING,
        label=fields.label,
        seed=seed,
        otp=params,
        shown={"otpauth_uri": uri},
    )


FACTOR = AppCodeFactor()
KIND = Kind(
    kind=MethodKind.APP_CODE,
    title="Code from an authenticator app",  # what people read (the pages translate it)
    family=Family.CODE,
    words=("app_code", "code"),
    settings=(
        "issuer",
        "totp_window",
        "app_code_algorithm",
        "app_code_digits",
        "app_code_period",
        "pending_method_seconds",
    ),
    fields=Fields,
    make=make,
    code=FACTOR,
)
