"""Directories: where a tenant's users come from (Active Directory or another LDAP server),
and where their primary password is checked.

``DirectorySettings`` is one directory's configuration as an admin gives it (the bind
password apart: it is sealed, never listed). ``DirectoryEntry`` is one user as the directory
has them, already read through the attribute mapping. Both are plain values; the LDAP work
is the adapter's (adapters/directory/).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, Strict, field_validator

from twostep.domain.kinds import MethodKind

DAY = 24 * 3600


class DirectoryKind(StrEnum):
    """What the server is: its defaults (filter, stable id, change counter) follow."""

    ACTIVE_DIRECTORY = "active_directory"  # objectGUID, uSNChanged, userAccountControl
    LDAP = "ldap"  # OpenLDAP and others: entryUUID, modifyTimestamp


class Security(StrEnum):
    LDAPS = "ldaps"  # TLS from the first byte (port 636)
    STARTTLS = "starttls"  # plain LDAP upgraded to TLS before the bind (port 389)
    PLAIN = "plain"  # no TLS: refused unless the server is on loopback (tests, a local proxy)


class AttributeMap(BaseModel):
    """Which LDAP attribute holds what. The defaults are Azure MFA Server's Active Directory
    import: userPrincipalName (else sAMAccountName), givenName, sn, mail, telephoneNumber,
    mobile, homePhone, pager, facsimileTelephoneNumber, ipPhone; no extension attribute
    (MFA Server's was one an admin named: ``extension``). Which number becomes the user's
    phone: services/directory_entries.py."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The user's unique ID in Twostep: the first of these the entry has.
    user_id: tuple[str, ...] = Field(
        default=("userPrincipalName", "sAMAccountName"), min_length=1, max_length=4
    )
    first_name: str = "givenName"
    last_name: str = "sn"
    email: str = "mail"
    phone: str = "telephoneNumber"
    mobile: str = "mobile"
    home_phone: str = "homePhone"
    pager: str = "pager"
    fax: str = "facsimileTelephoneNumber"
    ip_phone: str = "ipPhone"
    # The office telephone's extension (Active Directory has no standard attribute for it;
    # MFA Server read one the admin named). None: not read.
    extension: str | None = None
    groups: str = "memberOf"
    # The entry's stable id, kept across renames and moves; None: the kind's default
    # (objectGUID for Active Directory, entryUUID otherwise).
    external_id: str | None = None

    @field_validator(
        "user_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile",
        "home_phone",
        "pager",
        "fax",
        "ip_phone",
        "extension",
        "groups",
    )
    @classmethod
    def _attribute_names(cls, value: Any) -> Any:
        if value is None:  # extension: not read
            return value
        for name in value if isinstance(value, tuple) else (value,):
            if not (1 <= len(name) <= 64 and name.replace("-", "").replace(";", "").isalnum()):
                raise ValueError(f"{name!r} is not an LDAP attribute name")
        return value


PhoneKind = Literal["sms", "sms_reply", "voice"]


class DirectorySettings(BaseModel):
    """One directory of a tenant, as its admin configures it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DirectoryKind = DirectoryKind.ACTIVE_DIRECTORY
    # Servers in failover order: ldap://host[:port] or ldaps://host[:port].
    urls: tuple[str, ...] = Field(min_length=1, max_length=8)
    security: Security = Security.STARTTLS
    ca_file: str | None = Field(
        default=None, max_length=4096, description="PEM file of the CA that signed the servers"
    )
    bind_dn: str = Field(min_length=1, max_length=1024, description="the account that reads")
    bind_password: SecretStr | None = Field(
        default=None, description="the reading account's password; write-only, sealed"
    )
    base_dn: str = Field(min_length=1, max_length=1024)
    user_filter: str | None = Field(
        default=None,
        max_length=4096,
        description="LDAP filter of the users to take; None: the kind's default "
        "((&(objectCategory=person)(objectClass=user)) for Active Directory, "
        "(objectClass=inetOrgPerson) otherwise)",
    )
    mfa_group: str | None = Field(
        default=None,
        max_length=1024,
        description="DN of the group whose members are taken (MFA-enabled); None: all",
    )
    attributes: AttributeMap = Field(default_factory=AttributeMap)
    sync_interval: int = Field(
        default=3600, ge=0, le=7 * DAY, description="seconds between syncs; 0: on demand only"
    )
    phone_methods: Annotated[tuple[PhoneKind, ...], Strict(False)] = Field(
        default=(),
        description="method kinds made from the directory's mobile (else telephone) number "
        "for users who have none of that kind",
    )
    password_bind: bool = Field(
        default=True, description="check users' primary passwords by a bind as the user"
    )
    page_size: int = Field(default=500, ge=10, le=5000)
    connect_timeout: float = Field(default=5.0, gt=0, le=60)
    operation_timeout: float = Field(default=10.0, gt=0, le=300)
    pool_size: int = Field(default=4, ge=1, le=64, description="bind connections per process")

    @field_validator("urls")
    @classmethod
    def _urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            scheme, sep, rest = url.partition("://")
            if scheme.lower() not in ("ldap", "ldaps") or not sep or not rest or "/" in rest:
                raise ValueError(f"{url!r}: expected ldap://host[:port] or ldaps://host[:port]")
        return urls

    @property
    def filter(self) -> str:
        if self.user_filter:
            return self.user_filter
        if self.kind is DirectoryKind.ACTIVE_DIRECTORY:
            return "(&(objectCategory=person)(objectClass=user))"
        return "(objectClass=inetOrgPerson)"

    @property
    def external_id_attribute(self) -> str:
        if self.attributes.external_id:
            return self.attributes.external_id
        return "objectGUID" if self.kind is DirectoryKind.ACTIVE_DIRECTORY else "entryUUID"

    def phone_kinds(self) -> tuple[MethodKind, ...]:
        return tuple(MethodKind(kind) for kind in self.phone_methods)


@dataclass(frozen=True, slots=True)
class Directory:
    """A configured directory of a tenant (its password is sealed apart)."""

    id: str
    tenant_id: int
    name: str
    settings: DirectorySettings
    position: int = 0
    created_at: float = 0.0
    sync_cursor: str | None = None
    synced_at: float | None = None


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One user as the directory has them, through the attribute mapping."""

    external_id: str  # stable across renames: entryUUID, or objectGUID as its GUID string
    dn: str
    user_id: str | None  # None: none of the user_id attributes is set (the entry is skipped)
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None  # telephoneNumber: the office telephone
    mobile: str | None = None
    home_phone: str | None = None
    pager: str | None = None
    fax: str | None = None
    ip_phone: str | None = None
    extension: str | None = None  # the office telephone's extension
    groups: tuple[str, ...] = ()
    disabled: bool = False  # AD userAccountControl bit 2 (ACCOUNTDISABLE)


class BindResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # invalid credentials (or the account may not sign in)
    UNAVAILABLE = "unavailable"  # no server answered, or it failed otherwise: fail closed
