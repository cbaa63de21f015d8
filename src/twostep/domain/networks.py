"""Trusted networks: a tenant's list of CIDR blocks, IPv4 and IPv6, in one normal form,
and whether a client address falls inside one of them. Plain ``ipaddress``; no I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

MAX_NETWORKS = 200  # MFA Server's own trusted-IP lists were short; a bound keeps reads cheap
MAX_NETWORK_LENGTH = 49  # the longest IPv6 CIDR ("ffff:...:ffff/128" is 43) with room


def normalised(values: Iterable[str]) -> tuple[str, ...]:
    """Each block as ``ipaddress`` writes it ("10.0.0.0/8", "2001:db8::/32"; a bare address
    becomes a /32 or /128), in the order given, each once. ``ValueError`` names the first
    value that is not a network, or one with host bits set ("10.0.0.1/8")."""
    found: list[str] = []
    for value in values:
        text = value.strip()
        if not text or len(text) > MAX_NETWORK_LENGTH:
            raise ValueError(f"{value!r} is not a CIDR block such as 192.0.2.0/24")
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a CIDR block such as 192.0.2.0/24 or 2001:db8::/32 "
                "(host bits must be zero)"
            ) from None
        block = str(network)
        if block in found:
            raise ValueError(f"lists {block} twice")
        found.append(block)
    return tuple(found)


def matching(address: str | None, networks: Iterable[str]) -> str | None:
    """The most specific of ``networks`` that holds ``address``, else None (also for no
    address, or one that is not an IP address). An IPv4-mapped IPv6 address is read as the
    IPv4 address it carries, so ``::ffff:10.1.2.3`` meets ``10.0.0.0/8``."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    value = int(ip)
    for mask, blocks in _parsed(tuple(networks)).get(ip.version, ()):
        block = blocks.get(value & mask)
        if block is not None:
            return block
    return None


_Masks = tuple[tuple[int, dict[int, str]], ...]


@lru_cache(maxsize=256)
def _parsed(blocks: tuple[str, ...]) -> dict[int, _Masks]:
    """Per IP version, each prefix length's mask (longest first) with the blocks of that
    length by network number: one lookup per distinct length, whatever the list's size,
    and the list parsed once (parsing 200 blocks costs milliseconds)."""
    by_length: dict[tuple[int, int], dict[int, str]] = {}
    for block in blocks:
        network = ipaddress.ip_network(block)
        key = (network.version, network.prefixlen)
        by_length.setdefault(key, {})[int(network.network_address)] = block
    found: dict[int, list[tuple[int, dict[int, str]]]] = {}
    for (version, length), numbers in sorted(by_length.items(), key=lambda kv: -kv[0][1]):
        bits = 32 if version == 4 else 128
        mask = ((1 << length) - 1) << (bits - length)
        found.setdefault(version, []).append((mask, numbers))
    return {version: tuple(masks) for version, masks in found.items()}
