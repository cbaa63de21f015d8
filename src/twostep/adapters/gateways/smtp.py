"""Email through an SMTP relay: codes by email, and texts through an email-to-SMS service.

- An email (the EMAIL channel) goes to the address in ``TextMessage.to``, with its
  subject or the gateway's ``subject``.
- A text (the SMS channel) goes to the address built from ``sms_address`` (``{number}``
  is the E.164 number without "+", ``{national}`` the national number), without a
  subject (carriers would prepend it), so the SMS channel exists only with that template.

``mode`` narrows a gateway to one of them: ``email`` (emails only) or ``sms`` (texts
only). Unset, a gateway carries both as its settings allow, as gateways did before the
setting existed. Each message is plain UTF-8 text with the headers a mail client expects
(Date, Message-ID, MIME, Auto-Submitted). Plain SMTP is allowed only to a loopback relay
(a local MTA); anything else uses STARTTLS or implicit TLS with certificate checks.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

import phonenumbers
from pydantic import Field, field_validator, model_validator

from twostep.adapters.gateways.common import (
    Credential,
    GatewaySettings,
    GatewaySpec,
    Text,
    is_loopback,
    placeholders,
    revealed,
    timeout_field,
)
from twostep.domain.delivery import (
    Capability,
    Channel,
    Gateway,
    GatewayError,
    Receipt,
    TextMessage,
)
from twostep.domain.errors import InvalidSetting

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_SUBJECT = "Your verification code"
# One address (local@domain), nothing a header could be split or widened with: no space,
# no control character, no list separator, no angle bracket, no quote, no comment.
_ADDRESS = re.compile(r'[^\s@<>(),;:"\[\]\\]+@[^\s@<>(),;:"\[\]\\]+')
# An address with a display name: Twostep <mfa@example.com>, "Acme, Inc." <mfa@acme.test>.
_NAMED = re.compile(r'\s*(?:"(?P<quoted>[^"\\]*)"|(?P<plain>[^"<>]*?))\s*<(?P<address>[^<>]*)>\s*')


class SmtpSettings(GatewaySettings):
    """An SMTP relay: codes by email (mode email), or texts through an email-to-SMS
    service (mode sms)."""

    host: Text = Field(description="the relay's host name or address")
    port: int | None = Field(
        None, ge=1, le=65535, description="default 587 (starttls), 465 (tls), 25 (none)"
    )
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="starttls, tls (implicit TLS) or none (plain SMTP, loopback relays only); "
        "certificates and host names are checked",
    )
    username: Text | None = Field(None, description="the relay login, with password")
    password: Credential | None = Field(None, description="the relay password")
    from_address: Text = Field(
        description="the sender: mfa@example.com, or with a name: Twostep <mfa@example.com>"
    )
    mode: Literal["email", "sms"] | None = Field(
        None,
        description="email: emails only (codes to the user's address); sms: texts only "
        "(through sms_address). Unset: emails, and texts too when sms_address is set",
    )
    subject: Text = Field(DEFAULT_SUBJECT, description="the subject of an emailed code")
    sms_address: Text | None = Field(
        None,
        description="mode sms: the address a text goes to, e.g. {number}@sms.example.net "
        "({number}: E.164 without +; {national}: the national number)",
    )
    ca_file: Text | None = Field(None, description="a CA bundle for a relay with a private CA")
    timeout: float = timeout_field(10.0)

    @field_validator("from_address")
    @classmethod
    def _from(cls, value: str) -> str:
        if from_header(value) is None:
            raise InvalidSetting(
                "from_address must be one email address, optionally with a name: "
                "Twostep <mfa@example.com>",
                field="from_address",
            )
        return value

    @model_validator(mode="after")
    def _together(self) -> SmtpSettings:
        if self.security == "none" and not is_loopback(self.host):
            raise InvalidSetting(
                "security none (plain SMTP) is allowed only to a loopback relay", field="security"
            )
        if (self.username is None) != (self.password is None):
            raise InvalidSetting("username and password go together", field="password")
        if self.mode == "email" and self.sms_address is not None:
            raise InvalidSetting(
                "mode email sends no texts: leave out sms_address", field="sms_address"
            )
        template = self.sms_address
        if (template is not None or self.mode == "sms") and (
            template is None
            or not placeholders(template, ("number", "national"), "sms_address")
            or _ADDRESS.fullmatch(template.format(number="1", national="1")) is None
        ):
            raise InvalidSetting(
                "sms_address must be an address with {number} or {national}, "
                "like {number}@sms.example.net (mode sms needs one)",
                field="sms_address",
            )
        return self


def from_header(value: str) -> Address | None:
    """``value`` as one From address (with its display name), or None if it is not one."""
    named = _NAMED.fullmatch(value)
    name, address = "", value.strip()
    if named is not None:
        name = (named["quoted"] if named["quoted"] is not None else named["plain"]).strip()
        address = named["address"].strip()
    return _address(address, name)


def _address(address: str, name: str = "") -> Address | None:
    if _ADDRESS.fullmatch(address) is None:
        return None
    local, _, domain = address.rpartition("@")
    try:  # quotes the name as needed; refuses CR and LF, the header injection
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, TypeError):
        return None


class SmtpGateway:
    """A TextSender only (emails, texts through email-to-SMS); no calls, no webhooks."""

    def __init__(self, name: str, settings: SmtpSettings) -> None:
        self.name = name
        self._s = settings
        self._port = settings.port or DEFAULT_PORTS[settings.security]
        sender = from_header(settings.from_address)
        assert sender is not None  # checked with the settings
        self._from = sender
        email = {Channel.EMAIL} if settings.mode != "sms" else set()
        sms = {Channel.SMS} if settings.sms_address is not None else set()
        self.channels = frozenset(email | sms)

    def send_text(self, message: TextMessage) -> Receipt:
        if message.channel not in self.channels:
            raise GatewayError(f"smtp gateway {self.name} has no {message.channel} channel")
        sender: Address | None = self._from
        if message.channel is Channel.EMAIL:
            to, subject = _address(message.to), message.subject or self._s.subject
            if message.sender:  # the tenant's own From address
                sender = _address(message.sender)
        else:  # an SMS sender ID is no address: the relay's From stays
            to, subject = _address(self._sms_address(message.to)), None
        if to is None or sender is None:  # a list, a line break: a header injection
            raise GatewayError(f"smtp gateway {self.name}: not a valid address")
        email = EmailMessage()
        email["From"] = sender
        email["To"] = to
        try:
            if subject:
                email["Subject"] = subject
        except ValueError as exc:  # a line break: the subject would end the headers
            raise GatewayError(f"smtp gateway {self.name}: not a valid subject") from exc
        email["Date"] = formatdate(usegmt=True)
        message_id = make_msgid(domain=sender.domain)
        email["Message-ID"] = message_id
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        # 7bit where the text is ASCII; quoted-printable otherwise, which every relay
        # carries (8bit would need the relay's 8BITMIME).
        cte = "7bit" if message.body.isascii() else "quoted-printable"
        email.set_content(message.body, charset="utf-8", cte=cte)
        self._send(email)
        return Receipt(gateway=self.name, provider_id=message_id)

    def _sms_address(self, e164: str) -> str:
        assert self._s.sms_address is not None  # mode sms has one
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException as exc:
            raise self._error("the number is not in E.164") from exc
        national = phonenumbers.national_significant_number(number)
        return self._s.sms_address.format(number=e164.removeprefix("+"), national=national)

    def _send(self, email: EmailMessage) -> None:
        s = self._s
        try:
            with self._connect() as smtp:
                if s.username is not None:
                    smtp.login(s.username, revealed(s.password) or "")
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
                raise self._error(f"no answer within {s.timeout:g} s") from exc
            raise self._error(f"cannot deliver ({type(exc).__name__})") from exc

    def _connect(self) -> smtplib.SMTP:
        s = self._s
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, self._port, timeout=s.timeout, context=self._tls())
        smtp = smtplib.SMTP(s.host, self._port, timeout=s.timeout)
        if s.security == "starttls":
            try:
                smtp.starttls(context=self._tls())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _tls(self) -> ssl.SSLContext:
        """Certificates and host names checked; ``ca_file`` for a relay with a private CA."""
        return ssl.create_default_context(cafile=self._s.ca_file)

    def _error(self, why: str) -> GatewayError:
        return GatewayError(f"smtp gateway {self.name} ({self._s.host}): {why}")


def _build(name: str, settings: SmtpSettings) -> Gateway:
    return Gateway(name, texts=SmtpGateway(name, settings))


SPEC = GatewaySpec(
    kind="smtp", settings=SmtpSettings, can=frozenset({Capability.TEXTS}), build=_build
)
