"""RADIUS client networks across tenants: a tenant admin cannot take over another
tenant's NAS addresses, a network already a client's is refused, nesting is warned about."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from twostep.bootstrap import App
from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import NetworkOverlap
from twostep.interfaces.radius.clients import ClientTable
from twostep.services.admin import OPERATOR
from twostep.services.radius_clients import NewRadiusClient, secret_context

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def tenant_b_admin(app: App) -> AdminKey:
    app.admin.create_tenant(OPERATOR, "tenant-b")
    admin, _key = app.admin.create_admin_key(OPERATOR, "b-ops", Role.TENANT_ADMIN, "tenant-b")
    return admin


@pytest.fixture
def tenant_a_vpn(app: App) -> None:
    app.radius_clients.create(OPERATOR, "default", NewRadiusClient("vpn", "127.10.20.0/24"))


@pytest.mark.usefixtures("tenant_a_vpn")
class TestAnotherTenantsNetwork:
    def test_a_tenant_admin_cannot_add_an_address_inside_it(
        self, app: App, tenant_b_admin: AdminKey
    ) -> None:
        with pytest.raises(NetworkOverlap) as refused:
            app.radius_clients.create(
                tenant_b_admin, "tenant-b", NewRadiusClient("sneaky", "127.10.20.9")
            )
        # Nothing of the other tenant is named to a tenant admin.
        assert "default" not in refused.value.message and "vpn" not in refused.value.message
        assert app.radius_clients.list(tenant_b_admin, "tenant-b") == []

    def test_nor_a_network_around_it_nor_the_same_one(
        self, app: App, tenant_b_admin: AdminKey
    ) -> None:
        for network in ("127.10.0.0/16", "127.10.20.0/24", "0.0.0.0/0"):
            with pytest.raises(NetworkOverlap):
                app.radius_clients.create(
                    tenant_b_admin, "tenant-b", NewRadiusClient("wide", network)
                )

    def test_a_separate_network_is_fine(self, app: App, tenant_b_admin: AdminKey) -> None:
        created = app.radius_clients.create(
            tenant_b_admin, "tenant-b", NewRadiusClient("own", "127.10.21.0/24")
        )
        assert created.warnings == ()

    def test_a_global_admin_may_nest_and_is_told_whose(
        self, app: App, tenant_b_admin: AdminKey
    ) -> None:
        created = app.radius_clients.create(
            OPERATOR, "tenant-b", NewRadiusClient("special", "127.10.20.9")
        )
        [warning] = created.warnings
        assert "inside 127.10.20.0/24" in warning and "'vpn' of tenant 'default'" in warning

    def test_nobody_may_add_the_very_same_network(self, app: App) -> None:
        app.admin.create_tenant(OPERATOR, "tenant-c")
        with pytest.raises(NetworkOverlap):
            app.radius_clients.create(
                OPERATOR, "tenant-c", NewRadiusClient("twin", "127.10.20.0/24")
            )


class TestOneTenantsOwnNetworks:
    def test_the_same_network_twice_is_refused(self, app: App) -> None:
        app.radius_clients.create(OPERATOR, "default", NewRadiusClient("a", "192.0.2.0/24"))
        with pytest.raises(NetworkOverlap):
            app.radius_clients.create(OPERATOR, "default", NewRadiusClient("b", "192.0.2.0/24"))

    def test_a_nested_one_is_warned_about(self, app: App) -> None:
        app.radius_clients.create(OPERATOR, "default", NewRadiusClient("a", "192.0.2.0/24"))
        created = app.radius_clients.create(OPERATOR, "default", NewRadiusClient("b", "192.0.2.10"))
        assert created.warnings == (
            "192.0.2.10/32 lies inside 192.0.2.0/24 of RADIUS client 'a': the most specific "
            "network answers its addresses",
        )

    def test_ipv4_and_ipv6_never_overlap(self, app: App) -> None:
        app.radius_clients.create(OPERATOR, "default", NewRadiusClient("v4", "0.0.0.0/0"))
        created = app.radius_clients.create(
            OPERATOR, "default", NewRadiusClient("v6", "2001:db8::/32")
        )
        assert created.warnings == ()


def test_a_shared_network_in_old_data_is_warned_about_once_per_process(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    app.radius_clients.create(OPERATOR, "default", NewRadiusClient("a", "198.51.100.0/24"))
    with app.storage.transaction(write=True) as tx:  # as an older release could store them
        [(first, _sealed, _upstreams)] = tx.radius_clients.active()
        integration = tx.integrations.add(first.tenant_id, "b", "radius-" + "f" * 24, b"k", 1.0)
        twin = replace(first, id="f" * 32, name="b", integration_id=integration.id)
        tx.radius_clients.add(twin, app.deps.secrets.seal(b"s" * 32, secret_context(twin.id)))
    with caplog.at_level(logging.WARNING, "twostep.radius"):
        for _ in range(3):  # three reloads
            ClientTable(app.radius_clients.load_active())
    assert len([r for r in caplog.records if "share the network" in r.getMessage()]) == 1
