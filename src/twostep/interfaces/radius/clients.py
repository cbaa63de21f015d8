"""Which RADIUS client a datagram comes from: its source address against the clients'
networks, the most specific network first."""

from __future__ import annotations

import ipaddress
import itertools
import logging
from collections.abc import Sequence

from twostep.services.radius_clients import LoadedClient

log = logging.getLogger("twostep.radius")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_CACHED = 4096
_WARNED: set[tuple[str, str]] = set()  # client pairs already warned about in this process


def source_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The source as an address; an IPv4-mapped IPv6 source (a dual-stack socket) as IPv4."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientTable:
    def __init__(self, clients: Sequence[LoadedClient]) -> None:
        entries: list[tuple[_Network, LoadedClient]] = []
        for loaded in clients:
            try:
                entries.append((ipaddress.ip_network(loaded.client.network), loaded))
            except ValueError:
                log.error(
                    "RADIUS client %r: bad network %r", loaded.client.name, loaded.client.network
                )
        # Most specific first; among equals, the oldest client.
        entries.sort(key=lambda e: (-e[0].prefixlen, e[1].client.created_at, e[1].client.id))
        # Creation refuses a network another client has; older data may still hold such a
        # pair (equal networks sort side by side). Said once per process, not every reload.
        for (net, first), (other, second) in itertools.pairwise(entries):
            pair = (first.client.id, second.client.id)
            if net == other and pair not in _WARNED:
                _WARNED.add(pair)
                log.warning(
                    "RADIUS clients %r and %r share the network %s: %r answers",
                    first.client.name,
                    second.client.name,
                    net,
                    first.client.name,
                )
        self._entries = entries
        self._cache: dict[str, LoadedClient | None] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, host: str) -> LoadedClient | None:
        cache = self._cache
        if host in cache:
            return cache[host]
        found = None
        address = source_address(host)
        if address is not None:
            for network, loaded in self._entries:
                if address.version == network.version and address in network:
                    found = loaded
                    break
        if len(cache) >= MAX_CACHED:  # many sources (or spoofed ones): start afresh
            cache.clear()
        cache[host] = found
        return found
