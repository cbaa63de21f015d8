"""TLS to a real slapd (LDAPS and StartTLS, the certificate checked against the CA and the
server's name) and failover over the directory's URLs."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.postgres import free_port
from tests.support.slapd import SlapdTree
from twostep.adapters.directory.connector import LdapConnector
from twostep.domain.directory import DirectoryKind, DirectorySettings, Security
from twostep.domain.errors import DirectoryUnavailable

TLS = [Security.LDAPS, Security.STARTTLS]


@pytest.fixture
def connector() -> Iterator[LdapConnector]:
    connector = LdapConnector()
    yield connector
    connector.close()


@pytest.fixture
def hung_url() -> Iterator[str]:
    """A server that takes connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"ldap://127.0.0.1:{sock.getsockname()[1]}"


def user_ids(connector: LdapConnector, settings: DirectorySettings) -> set[str | None]:
    conn = connector.connect(settings, None)
    try:
        return {e.user_id for e in conn.users().entries}
    finally:
        conn.close()


@pytest.mark.parametrize("security", [*TLS, Security.PLAIN])
def test_reads_over_each_security(
    slapd: SlapdTree, connector: LdapConnector, security: Security
) -> None:
    slapd.add_user("alice")

    assert user_ids(connector, slapd.ldap_settings(security=security)) == {"alice@example.test"}


@pytest.mark.parametrize("security", TLS)
def test_a_server_whose_certificate_another_ca_signed_is_refused(
    slapd: SlapdTree, connector: LdapConnector, security: Security
) -> None:
    settings = slapd.ldap_settings(security=security, ca_file=str(slapd.server.other_ca_file))

    with pytest.raises(DirectoryUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        connector.connect(settings, None)


@pytest.mark.parametrize("security", TLS)
def test_a_server_whose_certificate_does_not_name_it_is_refused(
    slapd: SlapdTree, connector: LdapConnector, security: Security
) -> None:
    # slapd listens on 127.0.0.2 too; its certificate names 127.0.0.1, ::1 and localhost.
    url = slapd.url(security).replace("127.0.0.1", "127.0.0.2")
    settings = slapd.ldap_settings(security=security, urls=(url,))

    with pytest.raises(DirectoryUnavailable, match="IP address mismatch"):
        connector.connect(settings, None)


def test_the_name_localhost_is_in_the_certificate(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    slapd.add_user("alice")
    url = slapd.url(Security.LDAPS).replace("127.0.0.1", "localhost")

    settings = slapd.ldap_settings(security=Security.LDAPS, urls=(url,))

    assert user_ids(connector, settings) == {"alice@example.test"}


def test_a_ca_file_that_cannot_be_read_is_unavailable(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    settings = slapd.ldap_settings(ca_file=f"{slapd.ca_file}.missing")

    with pytest.raises(DirectoryUnavailable, match="cannot be used"):
        connector.connect(settings, None)


def test_failover_to_the_second_url_when_nothing_listens_on_the_first(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    slapd.add_user("alice")
    down = f"ldap://127.0.0.1:{free_port()}"
    settings = slapd.ldap_settings(urls=(down, slapd.url()))

    assert user_ids(connector, settings) == {"alice@example.test"}


def test_failover_past_a_server_that_does_not_answer_within_the_timeout(
    slapd: SlapdTree, connector: LdapConnector, hung_url: str
) -> None:
    slapd.add_user("alice")
    settings = slapd.ldap_settings(urls=(hung_url, slapd.url()), operation_timeout=1.0)

    started = time.monotonic()
    found = user_ids(connector, settings)

    assert found == {"alice@example.test"}
    assert time.monotonic() - started < 3.0


def test_no_server_answering_names_each_and_its_error(
    slapd: SlapdTree, connector: LdapConnector, hung_url: str
) -> None:
    down = f"ldap://127.0.0.1:{free_port()}"
    settings = slapd.ldap_settings(
        DirectoryKind.ACTIVE_DIRECTORY, urls=(down, hung_url), operation_timeout=1.0
    )

    with pytest.raises(DirectoryUnavailable) as unavailable:
        connector.connect(settings, None)

    message = str(unavailable.value)
    assert message.startswith("no server of the directory answered")
    assert f"{down}: " in message
    assert "refused" in message.lower()
    assert f"{hung_url}: " in message
