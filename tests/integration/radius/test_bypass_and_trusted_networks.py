"""RADIUS and issue 16's skips, driven by radclient as a NAS would: a one-time bypass lets
one Access-Request through (after the password in password_and_code mode), and trusted
networks never apply to RADIUS, whatever Calling-Station-Id or NAS-IP-Address says."""

from __future__ import annotations

from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.radius import radclient, running
from twostep.bootstrap import App
from twostep.domain.entities import RadiusMode
from twostep.services.admin import OPERATOR

MA = "Message-Authenticator = 0x00"
PASSWORD = "correct horse battery"


def _reasons(app: App) -> list[tuple[str, str | None, str | None]]:
    return [(e.result, e.reason, e.method) for e in app.audit.query(OPERATOR, "default")]


def test_a_bypass_lets_one_access_request_through_after_the_password(app: App) -> None:
    builders.enrolled_user(app, "alice")
    app.passwords.set_password(OPERATOR, "default", "alice", PASSWORD)
    add_client(app, mode=RadiusMode.PASSWORD_AND_CODE)
    app.bypasses.grant(OPERATOR, "default", "alice")
    with running(app) as server:
        wrong = radclient(server.port, f'User-Name = "alice", User-Password = "nope", {MA}')
        right = radclient(server.port, f'User-Name = "alice", User-Password = "{PASSWORD}", {MA}')
        again = radclient(server.port, f'User-Name = "alice", User-Password = "{PASSWORD}", {MA}')
    assert (wrong.code, right.code, again.code) == (
        "Access-Reject",
        "Access-Accept",
        "Access-Reject",
    ), right.output
    assert _reasons(app) == [
        ("reject", "invalid_password", None),
        ("accept", "bypass", None),
        ("reject", "code_required", "app_code"),
    ]


def test_trusted_networks_never_apply_to_radius(app: App) -> None:
    builders.enrolled_user(app, "alice")
    app.admin.update_settings(
        OPERATOR,
        "default",
        {"trusted_networks_enabled": True, "trusted_networks": ["192.0.2.0/24", "127.0.0.0/8"]},
    )
    add_client(app)
    # Even its integration row flagged: a RADIUS client's addresses are not vouched for.
    app.admin.set_trusted_client_addresses(OPERATOR, "default", "vpn", True)
    with running(app) as server:
        calling = radclient(
            server.port,
            f'User-Name = "alice", User-Password = "000000", {MA}, '
            'Calling-Station-Id = "192.0.2.7"',
        )
        nas = radclient(
            server.port,
            f'User-Name = "alice", User-Password = "000000", NAS-IP-Address = 192.0.2.1, {MA}',
        )
    assert (calling.code, nas.code) == ("Access-Reject", "Access-Reject")
    assert [r[1] for r in _reasons(app)] == ["invalid_code", "invalid_code"]
