from __future__ import annotations

import pytest

from twostep.adapters.storage.secretbox import AesGcmSecretBox, keyring_from_env
from twostep.bootstrap import App
from twostep.domain.entities import RadiusMode, Role
from twostep.domain.errors import (
    IntegrationExists,
    IntegrationNotFound,
    InvalidInput,
    SecretKeyError,
    TenantNotFound,
)
from twostep.services import keys, radius_clients
from twostep.services.admin import OPERATOR
from twostep.services.radius_clients import NewRadiusClient


def test_create_generates_a_printable_secret_shown_once(app: App) -> None:
    created = app.radius_clients.create(OPERATOR, "default", NewRadiusClient("vpn", "192.0.2.1"))
    assert created.secret is not None and len(created.secret) == 43  # 32 random bytes
    assert created.secret.isprintable() and created.warnings == ()
    assert created.client.network == "192.0.2.1/32"
    assert created.client.mode is RadiusMode.SECOND_FACTOR
    assert created.client.require_message_authenticator and not created.client.limit_proxy_state
    [loaded] = app.radius_clients.load_active()
    assert loaded.secret == created.secret.encode()
    assert loaded.integration.name == "vpn"
    # the client is an integration, and its name is taken
    [integration] = app.admin.list_integrations(OPERATOR, "default")
    assert integration.name == "vpn" and integration.key_id.startswith("radius-")
    with pytest.raises(IntegrationExists):
        app.radius_clients.create(OPERATOR, "default", NewRadiusClient("vpn", "192.0.2.2"))


def test_operator_secrets(app: App) -> None:
    strong = app.radius_clients.create(
        OPERATOR, "default", NewRadiusClient("a", "192.0.2.1", secret="k" * 64)
    )
    assert strong.secret is None and strong.warnings == ()
    weak = app.radius_clients.create(
        OPERATOR, "default", NewRadiusClient("b", "192.0.2.2", secret="twelve-chars")
    )
    assert len(weak.warnings) == 1 and "weak shared secret" in weak.warnings[0]
    for bad in ("k" * 65, "", " padded ", "tab\tinside"):
        with pytest.raises(InvalidInput) as info:
            app.radius_clients.create(
                OPERATOR, "default", NewRadiusClient("c", "192.0.2.3", secret=bad)
            )
        assert info.value.field == "secret"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        (" 2001:db8::/32 ", "2001:db8::/32"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("::ffff:192.0.2.0/120", "192.0.2.0/24"),
    ],
)
def test_networks_are_normalised(app: App, given: str, stored: str) -> None:
    created = app.radius_clients.create(OPERATOR, "default", NewRadiusClient("n", given))
    assert created.client.network == stored


@pytest.mark.parametrize(
    "bad", ["10.0.0.1/8", "10.0.0.0/33", "vpn.example.com", "", "10.0.0.0/8/8"]
)
def test_invalid_networks_are_refused(app: App, bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        app.radius_clients.create(OPERATOR, "default", NewRadiusClient("n", bad))
    assert info.value.field == "network"
    if bad == "10.0.0.1/8":
        assert "did you mean 10.0.0.0/8" in info.value.message


def test_options_and_warnings(app: App) -> None:
    created = app.radius_clients.create(
        OPERATOR,
        "default",
        NewRadiusClient(
            "any", "0.0.0.0/0", "password_and_code", require_message_authenticator=False
        ),
    )
    assert created.client.mode is RadiusMode.PASSWORD_AND_CODE
    assert any("any address" in w for w in created.warnings)
    assert any("BlastRADIUS" in w for w in created.warnings)
    with pytest.raises(InvalidInput):
        app.radius_clients.create(
            OPERATOR, "default", NewRadiusClient("m", "192.0.2.9", "sometimes")
        )
    with pytest.raises(InvalidInput):
        app.radius_clients.create(
            OPERATOR, "default", NewRadiusClient("w", "192.0.2.9", push_wait_seconds=121)
        )


def test_list_and_delete(app: App) -> None:
    for name, address in (("b", "192.0.2.2"), ("a", "192.0.2.1")):
        app.radius_clients.create(OPERATOR, "default", NewRadiusClient(name, address))
    assert [c.name for c in app.radius_clients.list(OPERATOR, "default")] == ["a", "b"]
    app.radius_clients.delete(OPERATOR, "default", "a")
    assert [c.name for c in app.radius_clients.list(OPERATOR, "default")] == ["b"]
    assert [i.name for i in app.admin.list_integrations(OPERATOR, "default")] == ["b"]
    with pytest.raises(IntegrationNotFound):
        app.radius_clients.delete(OPERATOR, "default", "a")
    app.radius_clients.create(OPERATOR, "default", NewRadiusClient("a", "192.0.2.1"))  # name free


def test_a_revoked_integration_disables_its_client(app: App) -> None:
    app.radius_clients.create(OPERATOR, "default", NewRadiusClient("vpn", "192.0.2.1"))
    app.admin.revoke_integration(OPERATOR, "default", "vpn")
    assert app.radius_clients.load_active() == []


def test_tenant_admins_reach_only_their_tenant(app: App) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    admin, _key = app.admin.create_admin_key(OPERATOR, "acme-ops", Role.TENANT_ADMIN, "acme")
    app.radius_clients.create(admin, "acme", NewRadiusClient("vpn", "192.0.2.1"))
    with pytest.raises(TenantNotFound):
        app.radius_clients.create(admin, "default", NewRadiusClient("vpn", "192.0.2.1"))
    assert [c.name for c in app.radius_clients.list(admin, "acme")] == ["vpn"]


def test_secrets_are_resealed_under_a_new_key(app: App) -> None:
    created = app.radius_clients.create(OPERATOR, "default", NewRadiusClient("vpn", "192.0.2.1"))
    assert app.config.storage.secret_key is not None
    old = app.config.storage.secret_key.get_secret_value()
    box = AesGcmSecretBox(keyring_from_env(f"{'5a' * 32},{old}"))  # a new current key
    with app.storage.transaction(write=True) as tx:
        assert keys.reseal(tx, box) == 1
    with app.storage.transaction(write=True) as tx:
        assert keys.reseal(tx, box) == 0
        [secret] = [v for v in tx.sealed.each() if v.place == "radius_clients.secret"]
    opened = box.open(secret.sealed, radius_clients.secret_context(secret.row_id))
    assert created.secret is not None and opened == created.secret.encode()


UPSTREAM_SECRET = "upstream-" + "u" * 30


def radius_primary(name: str = "vpn", **options: object) -> NewRadiusClient:
    from twostep.domain.entities import RadiusPrimary
    from twostep.services.radius_options import NewUpstream

    return NewRadiusClient(
        name,
        "192.0.2.1",
        primary=RadiusPrimary.RADIUS,
        upstreams=(NewUpstream("127.0.0.1", UPSTREAM_SECRET, 18120, 2.0),),
        **options,  # type: ignore[arg-type]
    )


def test_mfa_server_options_default_as_mfa_server_had_them(app: App) -> None:
    created = app.radius_clients.create(OPERATOR, "default", NewRadiusClient("vpn", "192.0.2.1"))
    client = created.client
    assert client.require_user_match and not client.oath_fallback
    assert client.primary.value == "none" and client.upstreams == ()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        # an unknown user accepted on nothing
        ({"require_user_match": False}, "require_user_match"),
        # password_only's field is an app password, not one to proxy
        ({"primary": "ldap", "mode": RadiusMode.PASSWORD_ONLY}, "primary"),
        ({"primary": "radius"}, "upstreams"),  # nobody to ask
        ({"primary": "kerberos"}, "primary"),
    ],
)
def test_options_that_do_not_go_together_are_refused(
    app: App, options: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        app.radius_clients.create(
            OPERATOR,
            "default",
            NewRadiusClient("vpn", "192.0.2.1", **options),  # type: ignore[arg-type]
        )
    assert refused.value.field == field
    assert app.radius_clients.list(OPERATOR, "default") == []


@pytest.mark.parametrize(
    ("address", "port", "timeout", "secret"),
    [
        ("vpn.example.com", 1812, 5.0, UPSTREAM_SECRET),  # a name: nothing is resolved
        ("127.0.0.1", 0, 5.0, UPSTREAM_SECRET),
        ("127.0.0.1", 1812, 60.0, UPSTREAM_SECRET),
        ("127.0.0.1", 1812, 5.0, " padded "),
    ],
)
def test_upstream_servers_are_checked(
    app: App, address: str, port: int, timeout: float, secret: str
) -> None:
    from twostep.domain.entities import RadiusPrimary
    from twostep.services.radius_options import NewUpstream

    new = NewRadiusClient(
        "vpn",
        "192.0.2.1",
        primary=RadiusPrimary.RADIUS,
        upstreams=(NewUpstream(address, secret, port, timeout),),
    )
    with pytest.raises(InvalidInput) as refused:
        app.radius_clients.create(OPERATOR, "default", new)
    assert refused.value.field == "upstreams"


def test_upstream_secrets_are_sealed_and_loaded_in_order(app: App) -> None:
    created = app.radius_clients.create(OPERATOR, "default", radius_primary())
    assert created.client.upstreams[0].port == 18120
    [loaded] = app.radius_clients.load_active()
    assert loaded.upstream_secrets == (UPSTREAM_SECRET.encode(),)
    with app.storage.transaction() as tx:
        [sealed] = tx.radius_clients.upstream_secrets(created.client.id)
    assert UPSTREAM_SECRET.encode() not in sealed
    # bound to its client and place: opened elsewhere, it does not open
    with pytest.raises(SecretKeyError):
        app.deps.secrets.open(sealed, radius_clients.secret_context(created.client.id))


def test_an_update_is_recorded_and_keeps_or_replaces_the_upstreams(app: App) -> None:
    from twostep.services.radius_clients import RadiusClientChange
    from twostep.services.radius_options import NewUpstream

    app.radius_clients.create(OPERATOR, "default", radius_primary())
    kept = app.radius_clients.update(
        OPERATOR, "default", "vpn", RadiusClientChange(oath_fallback=True)
    )
    assert kept.oath_fallback and kept.upstreams[0].port == 18120
    other = "another-" + "o" * 30
    two = (NewUpstream("127.0.0.2", other), NewUpstream("::1", UPSTREAM_SECRET, 1645, 1.5))
    replaced = app.radius_clients.update(
        OPERATOR, "default", "vpn", RadiusClientChange(upstreams=two)
    )
    assert [(u.address, u.port) for u in replaced.upstreams] == [("127.0.0.2", 1812), ("::1", 1645)]
    [loaded] = app.radius_clients.load_active()
    assert loaded.upstream_secrets == (other.encode(), UPSTREAM_SECRET.encode())
    with pytest.raises(IntegrationNotFound):
        app.radius_clients.update(OPERATOR, "default", "nope", RadiusClientChange())
    events = app.admin_events.query(OPERATOR, "default", action="radius_client.update")
    text = repr(events)
    assert other not in text and UPSTREAM_SECRET not in text
    assert len(events) == 2


def test_upstream_secrets_are_resealed_under_a_new_key(app: App) -> None:
    app.radius_clients.create(OPERATOR, "default", radius_primary())
    assert app.config.storage.secret_key is not None
    old = app.config.storage.secret_key.get_secret_value()
    box = AesGcmSecretBox(keyring_from_env(f"{'5a' * 32},{old}"))
    with app.storage.transaction(write=True) as tx:
        assert keys.reseal(tx, box) == 2  # the client's secret and its upstream's
    with app.storage.transaction(write=True) as tx:
        [value] = [v for v in tx.sealed.each() if v.place == "radius_upstreams.secret"]
    assert box.open(value.sealed, value.context) == UPSTREAM_SECRET.encode()
    assert value.context.startswith("radius_upstream:") and value.context.endswith(":0")
