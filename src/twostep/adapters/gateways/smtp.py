"""Email through an SMTP relay: codes by email, and texts through an email-to-SMS service.

A text goes to the address built from ``sms_address`` (``{number}`` is the E.164
number without "+", ``{national}`` the national number), so the SMS channel exists
only when that template is set. Plain SMTP is allowed only to a loopback relay (a
local MTA); anything else uses STARTTLS or implicit TLS with certificate checks.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import phonenumbers

from twostep.adapters.gateways.common import (
    Field,
    GatewaySpec,
    is_loopback,
    placeholders,
    timeout_field,
)
from twostep.domain.delivery import (
    CallEvent,
    Channel,
    GatewayError,
    InboundText,
    Receipt,
    TextMessage,
    VoiceCall,
    WebhookAnswer,
    WebhookRefused,
    WebhookRequest,
)
from twostep.domain.errors import InvalidSetting

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class SmtpGateway:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        """``settings`` as checked by :data:`SPEC`."""
        self.name = name
        self._s = dict(settings)
        self._port: int = self._s.get("port") or DEFAULT_PORTS[self._s["security"]]
        sms = {Channel.SMS} if "sms_address" in self._s else set()
        self.channels = frozenset({Channel.EMAIL, *sms})

    def send_text(self, message: TextMessage) -> Receipt:
        s = self._s
        if message.channel is Channel.EMAIL:
            to, subject = message.to, message.subject or s["subject"]
        elif message.channel is Channel.SMS and "sms_address" in s:
            to, subject = self._sms_address(message.to), None
        else:
            raise GatewayError(f"smtp gateway {self.name} has no {message.channel} channel")
        email = EmailMessage()
        try:
            email["From"] = s["from_address"]
            email["To"] = to
            if subject:
                email["Subject"] = subject
        except ValueError as exc:  # a line break in an address: header injection
            raise GatewayError(f"smtp gateway {self.name}: not a valid address") from exc
        email["Date"] = formatdate(localtime=False)
        message_id = make_msgid(domain=s["from_address"].rpartition("@")[2])
        email["Message-ID"] = message_id
        email.set_content(message.body)
        self._send(email)
        return Receipt(gateway=self.name, provider_id=message_id)

    def _sms_address(self, e164: str) -> str:
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException as exc:
            raise self._error("the number is not in E.164") from exc
        national = phonenumbers.national_significant_number(number)
        values = {"number": e164.removeprefix("+"), "national": national}
        return str(self._s["sms_address"]).format_map(values)

    def _send(self, email: EmailMessage) -> None:
        s = self._s
        try:
            with self._connect() as smtp:
                if "username" in s:
                    smtp.login(s["username"], s["password"])
                smtp.send_message(email)
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(f"the relay refused the login ({exc.smtp_code})") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            # Only the codes: the relay's text repeats the address.
            codes = sorted({str(code) for code, _ in exc.recipients.values()})
            raise self._error(f"the relay refused the recipient ({', '.join(codes)})") from exc
        except smtplib.SMTPResponseException as exc:
            raise self._error(f"the relay answered {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # smtplib turns a read timeout into SMTPServerDisconnected; the cause tells.
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                raise self._error(f"no answer within {s['timeout']:g} s") from exc
            raise self._error(f"cannot deliver ({type(exc).__name__})") from exc

    def _connect(self) -> smtplib.SMTP:
        s = self._s
        if s["security"] == "tls":
            return smtplib.SMTP_SSL(s["host"], self._port, timeout=s["timeout"], context=_tls(s))
        smtp = smtplib.SMTP(s["host"], self._port, timeout=s["timeout"])
        if s["security"] == "starttls":
            try:
                smtp.starttls(context=_tls(s))
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _error(self, why: str) -> GatewayError:
        return GatewayError(f"smtp gateway {self.name} ({self._s['host']}): {why}")

    def place_call(self, call: VoiceCall) -> Receipt:
        raise GatewayError(f"smtp gateway {self.name} does not place calls")

    def inbound_text(self, request: WebhookRequest) -> InboundText:
        raise WebhookRefused(f"smtp gateway {self.name} takes no inbound messages")

    def call_event(self, request: WebhookRequest) -> CallEvent:
        raise WebhookRefused(f"smtp gateway {self.name} places no calls: it takes no call events")

    def call_answer(self, text: str, language: str) -> WebhookAnswer:
        return WebhookAnswer("text/plain; charset=utf-8", text.encode())


def _tls(settings: Mapping[str, Any]) -> ssl.SSLContext:
    """Certificates and host names checked; ``ca_file`` for a relay with a private CA."""
    return ssl.create_default_context(cafile=settings.get("ca_file"))


def _check(settings: dict[str, Any]) -> None:
    if settings["security"] == "none" and not is_loopback(settings["host"]):
        raise InvalidSetting(
            "security none (plain SMTP) is allowed only to a loopback relay", field="security"
        )
    if "@" not in settings["from_address"]:
        raise InvalidSetting("from_address must be an email address", field="from_address")
    if ("username" in settings) != ("password" in settings):
        raise InvalidSetting("username and password go together", field="password")
    if "sms_address" in settings:
        template = settings["sms_address"]
        if "@" not in template or not placeholders(template, ("number", "national"), "sms_address"):
            raise InvalidSetting(
                "sms_address must be an address with {number} or {national}, "
                "like {number}@sms.example.net",
                field="sms_address",
            )


SPEC = GatewaySpec(
    kind="smtp",
    fields=(
        Field("host", str, required=True),
        Field("port", int, bounds=(1, 65535)),
        Field("security", str, default="starttls", choices=tuple(DEFAULT_PORTS)),
        Field("username", str),
        Field("password", str, secret=True),
        Field("from_address", str, required=True),
        Field("subject", str, default="Your verification code"),
        Field("sms_address", str),
        Field("ca_file", str),
        timeout_field(10.0),
    ),
    build=SmtpGateway,
    extra_check=_check,
)
