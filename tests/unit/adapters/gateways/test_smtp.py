"""The SMTP gateway against a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS, TLS;
emailed codes and email-to-SMS texts, and the headers a mail client reads."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.postgres import free_port
from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.adapters.gateways.smtp import SmtpGateway
from twostep.domain.delivery import Channel, GatewayError, TextMessage
from twostep.domain.errors import InvalidSetting

TO = "+14155550123"
USER, PASSWORD = "relay-user", "relay-pass-123"


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives (or refuses recipients)."""

    messages: list[Envelope] = field(default_factory=list)
    refuse_recipients: bool = False

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse_recipients:
            return f"550 5.1.1 <{address}> no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted"

    def email(self, index: int = 0) -> EmailMessage:
        content = self.messages[index].content
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Relay:
    inbox: Inbox
    port: int


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: the gateway trusts it through ca_file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _relay(**kwargs: Any) -> Iterator[Relay]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticate,
        **kwargs,
    )
    controller.start()
    try:
        yield Relay(inbox, controller.port)
    finally:
        controller.stop()


@pytest.fixture
def plain_relay() -> Iterator[Relay]:
    yield from _relay(auth_require_tls=False)


@pytest.fixture
def starttls_relay(certificate: tuple[Path, Path]) -> Iterator[Relay]:
    yield from _relay(tls_context=_server_tls(certificate), require_starttls=True)


@pytest.fixture
def tls_relay(certificate: tuple[Path, Path]) -> Iterator[Relay]:
    yield from _relay(ssl_context=_server_tls(certificate))


def gateway(port: int, **settings: Any) -> SmtpGateway:
    base = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "mfa@example.com",
        "timeout": 5,
    }
    built = GatewayRegistry().build("smtp", "relay", base | settings)
    assert isinstance(built.texts, SmtpGateway)
    return built.texts


def test_an_email_code(plain_relay: Relay) -> None:
    receipt = gateway(plain_relay.port).send_text(
        TextMessage("alice@example.com", "Your code is 493027", Channel.EMAIL, subject="Sign in")
    )
    (envelope,) = plain_relay.inbox.messages
    assert envelope.mail_from == "mfa@example.com"
    assert envelope.rcpt_tos == ["alice@example.com"]
    email = plain_relay.inbox.email()
    assert (email["From"], email["To"], email["Subject"]) == (
        "mfa@example.com",
        "alice@example.com",
        "Sign in",
    )
    assert email.get_content().strip() == "Your code is 493027"
    assert email["Message-ID"] == receipt.provider_id
    assert receipt.gateway == "relay"


def test_the_default_subject(plain_relay: Relay) -> None:
    gateway(plain_relay.port, subject="Twostep code").send_text(
        TextMessage("alice@example.com", "Code 1", Channel.EMAIL)
    )
    assert plain_relay.inbox.email()["Subject"] == "Twostep code"


@pytest.mark.parametrize(
    ("template", "address"),
    [
        ("{number}@sms.example.net", "14155550123@sms.example.net"),
        ("{national}@txt.example.com", "4155550123@txt.example.com"),
    ],
)
def test_a_text_goes_to_the_email_to_sms_address(
    plain_relay: Relay, template: str, address: str
) -> None:
    gw = gateway(plain_relay.port, sms_address=template)
    assert gw.channels == frozenset({Channel.SMS, Channel.EMAIL})
    gw.send_text(TextMessage(TO, "Your code is 493027"))
    assert plain_relay.inbox.messages[0].rcpt_tos == [address]
    email = plain_relay.inbox.email()
    assert email["Subject"] is None  # carriers would prepend it to the text
    assert email.get_content().strip() == "Your code is 493027"


def test_without_sms_address_there_is_no_sms_channel(plain_relay: Relay) -> None:
    gw = gateway(plain_relay.port)
    assert gw.channels == frozenset({Channel.EMAIL})
    with pytest.raises(GatewayError, match="no sms channel"):
        gw.send_text(TextMessage(TO, "Your code is 493027"))
    assert plain_relay.inbox.messages == []


def test_login(plain_relay: Relay) -> None:
    message = TextMessage("alice@example.com", "Code 1", Channel.EMAIL)
    gateway(plain_relay.port, username=USER, password=PASSWORD).send_text(message)
    assert len(plain_relay.inbox.messages) == 1

    with pytest.raises(GatewayError, match=r"refused the login \(535\)") as caught:
        gateway(plain_relay.port, username=USER, password="wrong-pass-9").send_text(message)
    assert "wrong-pass-9" not in str(caught.value)


def test_a_refused_recipient_shows_only_the_code(plain_relay: Relay) -> None:
    plain_relay.inbox.refuse_recipients = True
    with pytest.raises(GatewayError, match=r"refused the recipient \(550\)") as caught:
        gateway(plain_relay.port, sms_address="{number}@sms.example.net").send_text(
            TextMessage(TO, "Your code is 493027")
        )
    assert "4155550123" not in str(caught.value)
    assert "493027" not in str(caught.value)


def test_starttls_with_login(starttls_relay: Relay, certificate: tuple[Path, Path]) -> None:
    gw = gateway(
        starttls_relay.port,
        security="starttls",
        ca_file=str(certificate[0]),
        username=USER,
        password=PASSWORD,
    )
    gw.send_text(TextMessage("alice@example.com", "Code 2", Channel.EMAIL))
    assert starttls_relay.inbox.messages[0].rcpt_tos == ["alice@example.com"]


def test_implicit_tls(tls_relay: Relay, certificate: tuple[Path, Path]) -> None:
    gw = gateway(tls_relay.port, security="tls", ca_file=str(certificate[0]))
    gw.send_text(TextMessage("alice@example.com", "Code 3", Channel.EMAIL))
    assert tls_relay.inbox.email().get_content().strip() == "Code 3"


def test_an_untrusted_certificate_is_refused(tls_relay: Relay) -> None:
    gw = gateway(tls_relay.port, security="tls")  # no ca_file: the system's CAs only
    with pytest.raises(GatewayError, match="SSLCertVerificationError"):
        gw.send_text(TextMessage("alice@example.com", "Code 4", Channel.EMAIL))
    assert tls_relay.inbox.messages == []


def test_a_relay_that_never_greets_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never speaks
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        gw = gateway(listener.getsockname()[1], timeout=0.3)
        started = time.monotonic()
        with pytest.raises(GatewayError, match=r"no answer within 0\.3 s"):
            gw.send_text(TextMessage("alice@example.com", "Code 5", Channel.EMAIL))
        assert time.monotonic() - started < 2


def test_nothing_listening() -> None:
    with pytest.raises(GatewayError, match="ConnectionRefusedError"):
        gateway(free_port()).send_text(TextMessage("alice@example.com", "Code", Channel.EMAIL))


def test_a_line_break_in_an_address_is_refused(plain_relay: Relay) -> None:
    message = TextMessage("alice@example.com\nBcc: eve@example.com", "Code", Channel.EMAIL)
    with pytest.raises(GatewayError, match="not a valid address"):
        gateway(plain_relay.port).send_text(message)
    assert plain_relay.inbox.messages == []


def test_no_calls_and_no_webhooks() -> None:
    settings = {"host": "127.0.0.1", "security": "none", "from_address": "mfa@example.com"}
    built = GatewayRegistry().build("smtp", "relay", settings)
    assert (built.calls, built.inbound_texts, built.call_events) == (None, None, None)
    for method in ("place_call", "inbound_text", "call_event", "call_answer"):
        assert not hasattr(built.texts, method)  # no stubs


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"host": "smtp.example.com", "security": "none"}, "security"),
        ({"security": "ssl"}, "security"),
        ({"port": 0}, "port"),
        ({"port": True}, "port"),
        ({"from_address": "mfa"}, "from_address"),
        ({"username": "u"}, "password"),
        ({"sms_address": "{number}"}, "sms_address"),
        ({"sms_address": "sms@example.net"}, "sms_address"),
        ({"sms_address": "{to}@sms.example.net"}, "sms_address"),
    ],
)
def test_check_refuses_bad_settings(settings: dict[str, Any], field: str) -> None:
    base = {"host": "127.0.0.1", "from_address": "mfa@example.com"}
    with pytest.raises(InvalidSetting) as caught:
        GatewayRegistry().check("smtp", base | settings)
    assert caught.value.field == field


def test_ports_follow_the_security_mode() -> None:
    checked = GatewayRegistry().check("smtp", {"host": "smtp.example.com", "from_address": "a@b.c"})
    assert checked["security"] == "starttls"
    assert "port" not in checked  # 587 for starttls, 465 for tls, 25 for none


# -- modes: emails only, texts only, or both (unset: as before the setting existed) ------


def test_unset_mode_carries_what_the_settings_allow() -> None:
    assert gateway(25).channels == frozenset({Channel.EMAIL})
    with_sms = gateway(25, sms_address="{number}@sms.example.net")
    assert with_sms.channels == frozenset({Channel.EMAIL, Channel.SMS})


def test_mode_email_sends_emails_only(plain_relay: Relay) -> None:
    gw = gateway(plain_relay.port, mode="email")
    assert gw.channels == frozenset({Channel.EMAIL})
    with pytest.raises(GatewayError, match="no sms channel"):
        gw.send_text(TextMessage(TO, "Your code is 493027"))
    gw.send_text(TextMessage("alice@example.com", "Your code is 493027", Channel.EMAIL))
    assert plain_relay.inbox.messages[0].rcpt_tos == ["alice@example.com"]


def test_mode_sms_sends_texts_only(plain_relay: Relay) -> None:
    gw = gateway(plain_relay.port, mode="sms", sms_address="{number}@sms.example.net")
    assert gw.channels == frozenset({Channel.SMS})
    with pytest.raises(GatewayError, match="no email channel"):
        gw.send_text(TextMessage("alice@example.com", "Code", Channel.EMAIL))
    assert plain_relay.inbox.messages == []


def test_an_emailed_code_has_the_headers_a_mail_client_reads(plain_relay: Relay) -> None:
    gw = gateway(plain_relay.port, mode="email", from_address="Twostep <mfa@example.com>")
    before = datetime.datetime.now(datetime.UTC)
    receipt = gw.send_text(
        TextMessage("alice@example.com", "Your code is 493027", Channel.EMAIL, subject="Sign in")
    )
    (envelope,) = plain_relay.inbox.messages
    assert envelope.mail_from == "mfa@example.com"
    email = plain_relay.inbox.email()
    assert email["From"].addresses[0].display_name == "Twostep"
    assert email["From"].addresses[0].addr_spec == "mfa@example.com"
    assert (email["To"], email["Subject"]) == ("alice@example.com", "Sign in")
    assert abs(email["Date"].datetime - before) < datetime.timedelta(seconds=60)
    assert email["Message-ID"] == receipt.provider_id
    assert receipt.provider_id is not None and receipt.provider_id.endswith("@example.com>")
    assert email["MIME-Version"] == "1.0"
    assert email.get_content_type() == "text/plain"
    assert email.get_content_charset() == "utf-8"
    assert email["Auto-Submitted"] == "auto-generated"  # RFC 3834: no vacation replies


def test_the_tenant_sender_is_the_from_address_of_an_email(plain_relay: Relay) -> None:
    gw = gateway(plain_relay.port, from_address="Twostep <mfa@example.com>")
    message = TextMessage("alice@example.com", "Code", Channel.EMAIL, sender="mfa@acme.example")
    receipt = gw.send_text(message)
    assert plain_relay.inbox.messages[0].mail_from == "mfa@acme.example"
    assert plain_relay.inbox.email()["From"] == "mfa@acme.example"
    assert receipt.provider_id is not None and receipt.provider_id.endswith("@acme.example>")
    with pytest.raises(GatewayError, match="not a valid address"):
        gw.send_text(
            TextMessage("alice@example.com", "Code", Channel.EMAIL, sender="a@b.c, eve@x.y")
        )


def test_a_text_keeps_the_relay_sender(plain_relay: Relay) -> None:
    gw = gateway(plain_relay.port, sms_address="{number}@sms.example.net")
    gw.send_text(TextMessage(TO, "Code", sender="Twostep"))  # an SMS sender ID
    assert plain_relay.inbox.messages[0].mail_from == "mfa@example.com"


def test_the_default_subject_names_the_code() -> None:
    checked = GatewayRegistry().check(
        "smtp", {"host": "smtp.example.com", "from_address": "mfa@example.com"}
    )
    assert checked["subject"] == "Your verification code"


def test_text_in_any_language_travels_7_bit_clean(plain_relay: Relay) -> None:
    gw = gateway(plain_relay.port, mode="email", from_address="Twöstep <mfa@example.com>")
    gw.send_text(
        TextMessage("alice@example.com", "인증 코드: 493027", Channel.EMAIL, subject="로그인 코드")
    )
    content = plain_relay.inbox.messages[0].content
    assert isinstance(content, bytes) and content.isascii()  # no relay needs 8BITMIME
    email = plain_relay.inbox.email()
    assert email.get_content().strip() == "인증 코드: 493027"
    assert email["Subject"] == "로그인 코드"
    assert email["From"].addresses[0].display_name == "Twöstep"


@pytest.mark.parametrize(
    "to",
    [
        "alice@example.com, eve@example.com",  # a second recipient
        "alice@example.com\r\nBcc: eve@example.com",  # a header of its own
        "Eve <eve@example.com>",
        "<alice@example.com>",
        "alice@example.com>",
        "alice",
        "alice@@example.com",
        "",
    ],
)
def test_one_plain_address_or_nothing_is_sent(plain_relay: Relay, to: str) -> None:
    with pytest.raises(GatewayError, match="not a valid address"):
        gateway(plain_relay.port, mode="email").send_text(TextMessage(to, "Code", Channel.EMAIL))
    assert plain_relay.inbox.messages == []


def test_a_line_break_in_the_subject_is_refused(plain_relay: Relay) -> None:
    message = TextMessage("alice@example.com", "Code", Channel.EMAIL, subject="Hi\nBcc: e@x.y")
    with pytest.raises(GatewayError, match="not a valid subject"):
        gateway(plain_relay.port).send_text(message)
    assert plain_relay.inbox.messages == []


@pytest.mark.parametrize(
    "sender",
    [
        "mfa@example.com",
        "Twostep <mfa@example.com>",
        '"Acme, Inc." <mfa@acme.example>',
        "<mfa@example.com>",
    ],
)
def test_from_address_may_carry_a_name(sender: str) -> None:
    base = {"host": "smtp.example.com", "from_address": sender}
    assert GatewayRegistry().check("smtp", base)["from_address"] == sender


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"from_address": "mfa@example.com, eve@example.com"}, "from_address"),
        ({"from_address": "A <mfa@example.com> <eve@example.com>"}, "from_address"),
        ({"from_address": "mfa@example.com>"}, "from_address"),
        ({"mode": "fax"}, "mode"),
        ({"mode": "sms"}, "sms_address"),
        ({"mode": "email", "sms_address": "{number}@sms.example.net"}, "sms_address"),
        ({"sms_address": "{number}@sms.example.net, eve@example.com"}, "sms_address"),
        ({"sms_address": "{number:>20}@sms.example.net"}, "sms_address"),  # spaces
    ],
)
def test_modes_and_addresses_are_checked(settings: dict[str, Any], field: str) -> None:
    base = {"host": "127.0.0.1", "from_address": "mfa@example.com"}
    with pytest.raises(InvalidSetting) as caught:
        GatewayRegistry().check("smtp", base | settings)
    assert caught.value.field == field
