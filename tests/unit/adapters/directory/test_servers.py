"""Which servers a directory's settings allow, refused before any traffic when unsafe."""

from __future__ import annotations

import pytest

from twostep.adapters.directory.connection import scope_filter
from twostep.adapters.directory.servers import Endpoint, endpoints
from twostep.domain.directory import DirectoryKind, DirectorySettings, Security
from twostep.domain.errors import DirectoryUnavailable


def settings(
    *urls: str, security: Security = Security.STARTTLS, **fields: object
) -> DirectorySettings:
    return DirectorySettings(urls=urls, security=security, bind_dn="cn=r", base_dn="dc=x", **fields)


def test_urls_in_failover_order_with_default_ports() -> None:
    found = endpoints(settings("ldap://dc1.corp.example", "ldap://dc2.corp.example:3268"))

    assert found == [
        Endpoint("ldap://dc1.corp.example", "dc1.corp.example", 389, tls=False, start_tls=True),
        Endpoint(
            "ldap://dc2.corp.example:3268", "dc2.corp.example", 3268, tls=False, start_tls=True
        ),
    ]


def test_ldaps_urls_are_tls_from_the_first_byte() -> None:
    (found,) = endpoints(settings("ldaps://dc1.corp.example", security=Security.LDAPS))

    assert (found.port, found.tls, found.start_tls) == (636, True, False)


def test_an_ldaps_url_stays_tls_whatever_the_security_setting() -> None:
    (found,) = endpoints(settings("ldaps://[::1]:1636", security=Security.PLAIN))

    assert (found.host, found.port, found.tls) == ("::1", 1636, True)


def test_security_ldaps_refuses_an_ldap_url() -> None:
    with pytest.raises(DirectoryUnavailable, match="needs an ldaps:// URL"):
        endpoints(settings("ldap://dc1.corp.example", security=Security.LDAPS))


@pytest.mark.parametrize(
    "url", ["ldap://dc1.corp.example", "ldap://192.0.2.10", "ldap://[2001:db8::1]:389"]
)
def test_plain_ldap_to_a_server_off_loopback_is_refused(url: str) -> None:
    with pytest.raises(DirectoryUnavailable, match="only allowed to a server on loopback"):
        endpoints(settings(url, security=Security.PLAIN))


@pytest.mark.parametrize(
    "url", ["ldap://127.0.0.1:3389", "ldap://127.8.9.10", "ldap://[::1]:389", "ldap://localhost"]
)
def test_plain_ldap_to_loopback_is_allowed(url: str) -> None:
    (found,) = endpoints(settings(url, security=Security.PLAIN))

    assert (found.tls, found.start_tls) == (False, False)


def test_a_bad_port_is_refused() -> None:
    with pytest.raises(DirectoryUnavailable, match="port"):
        endpoints(settings("ldap://dc1:99999"))


def test_scope_is_the_kinds_filter_and_the_mfa_group_escaped() -> None:
    group = r"CN=MFA (VPN)\, Users,OU=Groups,DC=corp"

    ad = scope_filter(settings("ldap://dc1", kind=DirectoryKind.ACTIVE_DIRECTORY, mfa_group=group))
    ldap = scope_filter(settings("ldap://dc1", kind=DirectoryKind.LDAP))
    custom = scope_filter(settings("ldap://dc1", user_filter="uid=*"))

    assert ad == (
        "(&(&(objectCategory=person)(objectClass=user))"
        r"(memberOf=CN=MFA \28VPN\29\5c, Users,OU=Groups,DC=corp))"
    )
    assert ldap == "(objectClass=inetOrgPerson)"
    assert custom == "(uid=*)"
