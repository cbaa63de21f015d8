"""Tenant settings: typed, with defaults and one validator."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from twostep.domain.errors import InvalidSetting
from twostep.domain.text import first_refused

AUDIT_OPTIONAL_FIELDS = ("first_name", "last_name", "email", "phone", "device", "client_ip")


# Inclusive ranges of the integer settings (the OpenAPI description shows them too).
RANGES: dict[str, tuple[int, int]] = {
    "totp_window": (0, 10),
    "hotp_lookahead": (0, 100),
    "hotp_resync_window": (2, 10_000),
    "max_failures": (1, 100),
    "lockout_seconds": (0, 30 * 24 * 3600),
    "app_code_digits": (6, 8),
    "pending_method_seconds": (60, 7 * 24 * 3600),
    "sms_code_timeout": (60, 3600),
    "sms_reply_timeout": (30, 3600),
    "voice_timeout": (30, 600),
    "challenge_attempts": (1, 10),
    "resend_interval": (10, 600),
    "max_sends": (1, 5),
    "delivery_window": (60, 7 * 24 * 3600),
    "user_delivery_limit": (1, 1000),
    "tenant_delivery_limit": (1, 10_000_000),
    "push_timeout": (15, 600),
    "push_max_pending": (1, 10),
    "push_user_limit": (1, 100),
    "push_pause_after": (1, 100),
    "push_pause_seconds": (0, 86400),
    "activation_seconds": (60, 7 * 24 * 3600),
}
MAX_CALLING_CODES = 300  # more than there are country calling codes
MAX_URL_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class TenantSettings:
    issuer: str = "Twostep"  # shown by authenticator apps next to the account
    totp_window: int = 1  # accept the current step and this many steps either side
    hotp_lookahead: int = 10  # accept this many counters past the expected one
    hotp_resync_window: int = 100  # how far two consecutive codes may be searched for
    max_failures: int = 10  # consecutive failures before the user is locked
    lockout_seconds: int = 900  # 0: locked until an admin unlocks
    app_code_algorithm: str = "SHA1"  # SHA1 is what every authenticator app reads
    app_code_digits: int = 6
    app_code_period: int = 30
    pending_method_seconds: int = 600  # unconfirmed enrollments expire
    audit_fields: tuple[str, ...] = field(default=AUDIT_OPTIONAL_FIELDS)
    # Phone methods (sms, sms_reply, voice): how long a challenge lives, how often it may be
    # tried and resent, and the abuse limits that stop SMS pumping and toll fraud.
    sms_code_timeout: int = 300  # one-way SMS: the code's lifetime
    sms_reply_timeout: int = 60  # two-way SMS: how long a reply is waited for
    voice_timeout: int = 120  # a call: how long "#" is waited for
    challenge_attempts: int = 3  # wrong codes before a challenge is spent
    resend_interval: int = 30  # seconds between two sends of one challenge
    max_sends: int = 3  # sends of one challenge, the first included
    delivery_window: int = 3600  # the sliding window of the two limits below
    user_delivery_limit: int = 10  # texts and calls per user per window
    tenant_delivery_limit: int = 1000  # texts and calls per tenant per window
    allowed_calling_codes: tuple[str, ...] = ()  # e.g. ("1", "44"); empty: every country
    sms_sender: str = ""  # sender ID or number; empty: the gateway's default
    caller_id: str = ""  # E.164 calls are placed from; empty: the gateway's default
    voice_pin_required: bool = False  # callers enter their PIN before "#"
    fraud_blocks_user: bool = True  # a fraud report (0# in a call) locks the user
    language: str = "en"  # texts and calls, for users without a language of their own
    # The mobile authenticator (app_push): request lifetime, the text shown on the device,
    # and the push-fatigue limits.
    push_timeout: int = 60  # seconds a push request waits for its answer
    push_message: str = "Sign-in to {integration} from {client_ip}"
    push_max_pending: int = 3  # unanswered requests a user may have at once
    push_user_limit: int = 10  # requests per user per 10 minutes
    push_pause_after: int = 3  # denials within 10 minutes that pause requests
    push_pause_seconds: int = 600  # how long requests stay paused after those denials
    activation_seconds: int = 600  # an activation code's lifetime
    alert_webhook_url: str = ""  # where fraud alerts are posted (JSON); empty: log only

    def __post_init__(self) -> None:
        self._check_text()
        for name, (low, high) in RANGES.items():
            _in_range(name, getattr(self, name), low, high)
        self._check_phone_settings()
        self._check_push_settings()
        if self.app_code_digits == 7:
            raise InvalidSetting("app_code_digits must be 6 or 8", field="app_code_digits")
        if self.app_code_period not in (30, 60):
            raise InvalidSetting("app_code_period must be 30 or 60", field="app_code_period")
        if self.app_code_algorithm not in ("SHA1", "SHA256", "SHA512"):
            raise InvalidSetting(
                "app_code_algorithm must be SHA1, SHA256 or SHA512", field="app_code_algorithm"
            )
        if (
            not isinstance(self.issuer, str)
            or not 1 <= len(self.issuer) <= 64
            or ":" in self.issuer
            or not self.issuer.isprintable()
        ):
            raise InvalidSetting(
                "issuer must be 1-64 printable characters without ':'", field="issuer"
            )
        if len(set(self.audit_fields)) != len(self.audit_fields):
            raise InvalidSetting("audit_fields lists a field twice", field="audit_fields")
        unknown = set(self.audit_fields) - set(AUDIT_OPTIONAL_FIELDS)
        if unknown:
            raise InvalidSetting(
                f"unknown audit field(s): {', '.join(sorted(unknown))}", field="audit_fields"
            )

    def _check_text(self) -> None:
        """The one text rule (domain/text.py) for every text setting and list item."""
        for f in fields(self):
            value = getattr(self, f.name)
            for text in value if isinstance(value, tuple) else (value,):
                if isinstance(text, str) and first_refused(text) is not None:
                    raise InvalidSetting(
                        f"{f.name} holds a control character; control characters are not accepted",
                        field=f.name,
                    )

    def _check_phone_settings(self) -> None:
        codes = self.allowed_calling_codes
        if len(codes) > MAX_CALLING_CODES or len(set(codes)) != len(codes):
            raise InvalidSetting(
                f"allowed_calling_codes lists each code once, at most {MAX_CALLING_CODES}",
                field="allowed_calling_codes",
            )
        for code in codes:
            if not (code.isdigit() and 1 <= len(code) <= 3 and code[0] != "0"):
                raise InvalidSetting(
                    'allowed_calling_codes lists country calling codes such as "1" or "44"',
                    field="allowed_calling_codes",
                )
        if len(self.sms_sender) > 16 or not self.sms_sender.isprintable():
            raise InvalidSetting(
                "sms_sender must be up to 16 printable characters", field="sms_sender"
            )
        if self.caller_id and not (
            self.caller_id.startswith("+")
            and self.caller_id[1:].isdigit()
            and 8 <= len(self.caller_id) <= 16
        ):
            raise InvalidSetting(
                "caller_id must be an E.164 number such as +14155550123", field="caller_id"
            )
        if not (
            2 <= len(self.language) <= 16 and all(c.isalnum() or c == "-" for c in self.language)
        ):
            raise InvalidSetting(
                "language must be a language tag such as en or de-CH", field="language"
            )

    def _check_push_settings(self) -> None:
        if not 1 <= len(self.push_message) <= 200:
            raise InvalidSetting("push_message must be 1-200 characters", field="push_message")
        try:
            self.push_message.format(integration="", client_ip="", user="")
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidSetting(
                "push_message may only use {integration}, {client_ip} and {user}",
                field="push_message",
            ) from exc
        if self.alert_webhook_url and (
            not self.alert_webhook_url.startswith(("https://", "http://"))
            or len(self.alert_webhook_url) > MAX_URL_LENGTH
        ):
            raise InvalidSetting(
                f"alert_webhook_url must be an http(s) URL of at most {MAX_URL_LENGTH} characters",
                field="alert_webhook_url",
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):  # JSON has lists
                data[key] = list(value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TenantSettings:
        """Build from stored or submitted values; unknown keys are an error."""
        return cls().updated(data)

    def updated(self, changes: dict[str, Any]) -> TenantSettings:
        known = {f.name: f for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, given in changes.items():
            value = given
            if key not in known:
                raise InvalidSetting(f"unknown setting {key!r}", field=key)
            default = getattr(TenantSettings(), key)
            if isinstance(default, tuple):
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise InvalidSetting(f"{key} must be a list of strings", field=key)
                value = tuple(value)
            elif isinstance(default, bool) or isinstance(value, bool):
                if not (isinstance(default, bool) and isinstance(value, bool)):
                    raise InvalidSetting(f"{key} has the wrong type", field=key)
            elif not isinstance(value, type(default)):
                raise InvalidSetting(f"{key} must be {type(default).__name__}", field=key)
            clean[key] = value
        return replace(self, **clean)


def _in_range(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidSetting(f"{name} must be an integer from {low} to {high}", field=name)
