"""A RADIUS client after its tenant's provider was replaced (issue 15, item 2): its
integration waits to be activated again, and until an admin activates it every
Access-Request is rejected with a Reply-Message and audited as ``integration_not_activated``,
with nothing checked, sent or started; once activated, the same NAS with the same shared
secret signs in again. Driven by radclient and pyrad on loopback."""

from __future__ import annotations

from pyrad.packet import AccessChallenge, AccessReject

from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.phones import MOBILE, code_of, outbox
from tests.support.radius import Running, ask, pyrad_client, radclient, running
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel
from twostep.domain.entities import MethodKind, RadiusMode
from twostep.services.admin import OPERATOR

MA = "Message-Authenticator = 0x00"  # radclient computes it
HELD = "This sign-in service must be activated again: ask your administrator"


def _replace_provider(app: App) -> None:
    first = app.providers.create(OPERATOR, "old", BillingModel.PER_USER, "default")
    app.providers.delete(OPERATOR, first.id)
    app.providers.create(OPERATOR, "new", BillingModel.PER_USER, "default")


def _events(app: App) -> list[tuple[str, str | None]]:
    return [(e.result, e.reason) for e in app.audit.query(OPERATOR, "default", user="alice")]


def test_a_held_back_client_is_rejected_until_its_integration_is_activated_again(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    _replace_provider(app)
    code = alice.totp(app.deps.clock.now())
    attributes = f'User-Name = "alice", User-Password = "{code}", {MA}'
    held = radclient(radius.port, attributes)
    assert held.code == "Access-Reject", held.output
    assert held.attributes["Reply-Message"] == [HELD]
    [event] = app.audit.query(OPERATOR, "default", user="alice")
    assert (event.result, event.reason, event.integration, event.interface) == (
        "reject",
        "integration_not_activated",
        "vpn",
        "radius",
    )
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 0

    pair = app.activations.generate(OPERATOR, "default", "vpn")
    activated = app.activations.exchange(pair.code, pair.password)
    assert activated.key is None  # a RADIUS client's integration gets no API key
    # The same NAS, the same shared secret, no reload: the code was never checked or spent.
    again = radclient(radius.port, attributes)
    assert again.code == "Access-Accept", again.output
    assert _events(app) == [("reject", "integration_not_activated"), ("accept", None)]


def test_nothing_is_sent_or_started_for_a_held_back_client(app: App) -> None:
    builders.user(app, "alice")
    app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, MOBILE)
    FakeDevice.new().activate(app)  # revoked by the replacement (account_not_activated)
    add_client(app, mode=RadiusMode.CHALLENGE, push_wait_seconds=1)
    _replace_provider(app)
    with running(app) as server:
        radius = pyrad_client(server.port)
        try:
            for typed in ("", "sms", "push", "123456"):
                reply = ask(radius, "alice", typed)
                assert reply.code == AccessReject
                assert reply["Reply-Message"] == [HELD]
                assert "State" not in reply  # no challenge to continue
        finally:
            radius._CloseSocket()
    assert outbox(app) == []  # no text, no call
    assert _events(app) == [("reject", "integration_not_activated")] * 4


def test_an_activated_clients_integration_keeps_no_key_anyone_could_use(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    _replace_provider(app)
    pair = app.activations.generate(OPERATOR, "default", "vpn")
    app.activations.exchange(pair.code, pair.password)
    with app.storage.transaction() as tx:
        integration = tx.integrations.by_name(app.admin.ensure_default_tenant().id, "vpn")
    assert integration is not None
    assert integration.key_id.startswith("radius-")  # never a tsi_ key id
    assert integration.pending_since is None


def test_a_challenge_begun_before_the_replacement_cannot_be_finished_after(app: App) -> None:
    """A text sent before the provider was replaced; its code typed after: refused."""
    builders.user(app, "alice")
    app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, MOBILE)
    add_client(app, mode=RadiusMode.CHALLENGE)
    with running(app) as server:
        radius = pyrad_client(server.port)
        try:
            first = ask(radius, "alice", "")
            assert first.code == AccessChallenge
            state = first["State"][0]
            _replace_provider(app)
            reply = ask(radius, "alice", code_of(app, state.decode()), state)
            assert reply.code == AccessReject
            assert reply["Reply-Message"] == [HELD]
        finally:
            radius._CloseSocket()
    assert _events(app)[-1] == ("reject", "integration_not_activated")
