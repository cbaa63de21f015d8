"""Trusted networks: CIDR blocks kept in one normal form, and the block an address is in."""

from __future__ import annotations

import re

import pytest

from twostep.domain import networks
from twostep.domain.errors import InvalidSetting
from twostep.domain.settings import TenantSettings


def test_blocks_are_kept_in_normal_form_in_the_order_given() -> None:
    assert networks.normalised([" 10.1.0.0/16", "2001:DB8:0::/32", "192.0.2.7"]) == (
        "10.1.0.0/16",
        "2001:db8::/32",
        "192.0.2.7/32",
    )


@pytest.mark.parametrize("bad", ["10.0.0.1/8", "10.0.0.0/33", "example.com", "", "::1/129"])
def test_a_value_that_is_not_a_network_is_named_in_the_error(bad: str) -> None:
    with pytest.raises(ValueError, match="CIDR block"):
        networks.normalised([bad])


def test_a_block_listed_twice_in_any_spelling_is_refused() -> None:
    with pytest.raises(ValueError, match="2001:db8::/32 twice"):
        networks.normalised(["2001:db8::/32", "2001:0DB8::/32"])


@pytest.mark.parametrize(
    ("address", "found"),
    [
        ("10.200.3.4", "10.0.0.0/8"),
        ("::ffff:10.1.2.3", "10.0.0.0/8"),
        ("2001:db8::5", "2001:db8::/32"),
        ("11.0.0.1", None),
        ("2001:db9::1", None),
        ("not-an-address", None),
        ("00-11-22-33-44-55", None),
        (None, None),
    ],
)
def test_an_address_meets_the_block_that_holds_it(address: str | None, found: str | None) -> None:
    assert networks.matching(address, ("10.0.0.0/8", "2001:db8::/32")) == found


def test_the_tenant_setting_is_normalised_and_bounded() -> None:
    settings = TenantSettings(trusted_networks=["192.0.2.0/24", "2001:DB8::/32"])
    assert settings.access.trusted_networks == ("192.0.2.0/24", "2001:db8::/32")
    assert settings.to_dict()["trusted_networks"] == ["192.0.2.0/24", "2001:db8::/32"]
    assert settings.access.trusted_networks_enabled is False
    too_many = [f"10.0.{i // 256}.{i % 256}" for i in range(networks.MAX_NETWORKS + 1)]
    with pytest.raises(InvalidSetting) as refused:
        TenantSettings(trusted_networks=too_many)
    assert refused.value.field == "trusted_networks"


def test_a_bad_block_in_the_tenant_setting_is_a_clear_invalid_setting() -> None:
    with pytest.raises(
        InvalidSetting, match=re.escape("'10.0.0.1/8' is not a CIDR block")
    ) as refused:
        TenantSettings(trusted_networks=["10.0.0.1/8"])
    assert refused.value.field == "trusted_networks"


def test_the_most_specific_block_is_named_whatever_the_order() -> None:
    blocks = ("10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0", "10.1.2.0/24")
    assert networks.matching("10.1.2.3", blocks) == "10.1.2.0/24"
    assert networks.matching("10.1.9.9", blocks) == "10.1.0.0/16"
    assert networks.matching("192.0.2.1", blocks) == "0.0.0.0/0"
    assert networks.matching("2001:db8::1", blocks) is None  # no IPv6 block at all
    assert networks.matching("2001:db8::1", ("::/0",)) == "::/0"
