"""What a throw-away slapd is made of: its cn=config, an Active Directory-like schema subset,
a throw-away CA and server certificate, and user entries as LDIF.

The AD subset uses Active Directory's OIDs and names, so the adapter reads it as it would read
AD. ``user`` is auxiliary here (AD's is structural) so one entry is both an ``inetOrgPerson``
and an AD ``user``: the same tree serves both kinds' default filters. ``group`` is AD's
structural class (``member`` optional, so a group may be empty, unlike ``groupOfNames``), and
the memberof overlay maintains ``memberOf`` from it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SUFFIX = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
READER_DN = f"cn=reader,{SUFFIX}"

_DIRECTORY_STRING = "1.3.6.1.4.1.1466.115.121.1.15"
_INTEGER = "1.3.6.1.4.1.1466.115.121.1.27"
_OCTET_STRING = "1.3.6.1.4.1.1466.115.121.1.40"


def _string(oid: str, name: str) -> str:
    return (
        f"( {oid} NAME '{name}' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch "
        f"SYNTAX {_DIRECTORY_STRING} SINGLE-VALUE )"
    )


def _integer(oid: str, name: str) -> str:
    # ORDERING, so (uSNChanged>=n) works as it does on AD.
    return (
        f"( {oid} NAME '{name}' EQUALITY integerMatch ORDERING integerOrderingMatch "
        f"SYNTAX {_INTEGER} SINGLE-VALUE )"
    )


AD_SCHEMA = f"""\
dn: cn=ad,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: ad
olcAttributeTypes: {_string("1.2.840.113556.1.4.221", "sAMAccountName")}
olcAttributeTypes: {_string("1.2.840.113556.1.4.656", "userPrincipalName")}
olcAttributeTypes: {_integer("1.2.840.113556.1.4.8", "userAccountControl")}
olcAttributeTypes: {_integer("1.2.840.113556.1.2.120", "uSNChanged")}
olcAttributeTypes: ( 1.2.840.113556.1.4.2 NAME 'objectGUID' EQUALITY octetStringMatch
  SYNTAX {_OCTET_STRING} SINGLE-VALUE )
olcAttributeTypes: {_string("1.2.840.113556.1.4.782", "objectCategory")}
olcAttributeTypes: {_string("1.2.840.113556.1.4.721", "ipPhone")}
olcObjectClasses: ( 1.2.840.113556.1.5.9 NAME 'user' AUXILIARY
  MAY ( sAMAccountName $ userPrincipalName $ userAccountControl $ uSNChanged $
  objectGUID $ objectCategory $ ipPhone ) )
olcObjectClasses: ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL MUST cn
  MAY ( member $ description $ sAMAccountName $ uSNChanged $ objectGUID $ objectCategory ) )
"""
# objectCategory: AD stores the category's DN and expands a short name ("person") in filters;
# this subset stores the short name, so AD's default filter
# (&(objectCategory=person)(objectClass=user)) selects the same entries here.


def config_ldif(home: Path, admin_password: str, *, module_path: str = "/usr/lib/ldap") -> str:
    """cn=config for ``slapadd -n0``: mdb under SUFFIX, memberof, TLS, and access rules
    (the reader account and users read; passwords only for binds)."""
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {home}/slapd.pid
olcLogLevel: 0
olcTLSCACertificateFile: {home}/ca.pem
olcTLSCertificateFile: {home}/server.pem
olcTLSCertificateKeyFile: {home}/server.key

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {module_path}
olcModuleLoad: back_mdb
olcModuleLoad: memberof

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file://{home}/ad.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcRootDN: {ADMIN_DN}
olcRootPW: {ssha(admin_password)}
olcDbDirectory: {home}/data
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
olcDbIndex: member eq
olcDbIndex: memberOf eq
olcDbIndex: cn eq
olcAccess: to attrs=userPassword by anonymous auth by self write by * none
olcAccess: to * by users read by * none
olcSizeLimit: size.soft=500 size.hard=500 size.pr=1000 size.prtotal=unlimited

dn: olcOverlay={{0}}memberof,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {{0}}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: group
"""


# The size limits are AD's idea: 500 entries without paging (like AD's MaxPageSize 1000, a
# search that does not page is cut), any number through the paged results control.


def base_ldif(reader_password: str) -> str:
    return ldif(
        [
            (SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": "example", "o": "Ex"}),
            (
                READER_DN,
                {
                    "objectClass": ["person"],
                    "cn": "reader",
                    "sn": "reader",
                    "userPassword": ssha(reader_password),
                },
            ),
        ]
    )


Value = str | bytes | Sequence[str | bytes] | None


def ldif(entries: Iterable[tuple[str, Mapping[str, Value]]]) -> str:
    """LDIF of entries; bytes and anything not safe as plain LDIF go base64 (``::``)."""
    chunks = []
    for dn, attributes in entries:
        lines = [_line("dn", dn)]
        for name, value in attributes.items():
            if value is None:
                continue
            values = [value] if isinstance(value, str | bytes) else list(value)
            lines.extend(_line(name, one) for one in values)
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


def _line(name: str, value: str | bytes) -> str:
    raw = value if isinstance(value, bytes) else value.encode()
    safe = raw.isascii() and raw.decode().isprintable() and not raw.startswith((b" ", b":", b"<"))
    if isinstance(value, str) and safe and not raw.endswith(b" "):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(raw).decode()}"


def ssha(password: str) -> str:
    """A salted SHA-1 hash as slapd checks it (its default scheme, fast to make in bulk)."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt, usedforsecurity=False).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def write_certificates(home: Path) -> None:
    """ca.pem (the CA), server.pem/server.key (127.0.0.1, ::1, localhost), and
    other-ca.pem: a CA that signed nothing here (a client trusting it must refuse)."""
    ca_key, ca_cert = _ca("Twostep test CA")
    _, other_cert = _ca("Some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (home / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (home / "other-ca.pem").write_bytes(other_cert.public_bytes(serialization.Encoding.PEM))
    (home / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (home / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (home / "server.key").chmod(0o600)


def _ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def new_password() -> str:
    return secrets.token_urlsafe(12)
