from __future__ import annotations

from twostep.domain.entities import Integration, RadiusClient
from twostep.interfaces.radius.clients import ClientTable
from twostep.services.radius_clients import LoadedClient


def _loaded(name: str, network: str, created: float = 0.0) -> LoadedClient:
    client = RadiusClient(
        id=name, tenant_id=1, integration_id=1, name=name, network=network, created_at=created
    )
    return LoadedClient(client, Integration(1, 1, name, "k", created), b"secret")


def _name(table: ClientTable, host: str) -> str | None:
    found = table.match(host)
    return None if found is None else found.client.name


def test_the_most_specific_network_wins() -> None:
    table = ClientTable(
        [
            _loaded("lan", "10.0.0.0/8"),
            _loaded("vpn", "10.1.2.3/32"),
            _loaded("site", "10.1.0.0/16"),
            _loaded("v6", "2001:db8::/32"),
            _loaded("v6-host", "2001:db8::7/128"),
        ]
    )
    assert _name(table, "10.1.2.3") == "vpn"
    assert _name(table, "10.1.9.9") == "site"
    assert _name(table, "10.9.9.9") == "lan"
    assert _name(table, "11.0.0.1") is None
    assert _name(table, "2001:db8::7") == "v6-host"
    assert _name(table, "2001:db8::8") == "v6"
    assert _name(table, "::ffff:10.1.2.3") == "vpn"  # a dual-stack socket's IPv4 source
    assert _name(table, "fe80::1%eth0") is None
    assert _name(table, "not an address") is None


def test_equal_networks_go_to_the_oldest_client() -> None:
    table = ClientTable([_loaded("new", "192.0.2.0/24", 2.0), _loaded("old", "192.0.2.0/24", 1.0)])
    assert _name(table, "192.0.2.5") == "old"
