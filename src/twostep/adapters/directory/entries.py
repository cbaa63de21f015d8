"""One LDAP entry read through a directory's attribute map: a ``DirectoryEntry``.

Values arrive raw (bytes), so nothing depends on the server's schema: text is UTF-8, and a
GUID attribute is 16 bytes in Active Directory's mixed-endian order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

from twostep.domain.directory import DirectoryEntry, DirectoryKind, DirectorySettings

Attributes = dict[str, list[bytes]]  # lower-case attribute name (options dropped) -> values

ACCOUNTDISABLE = 0x2  # userAccountControl: the account is disabled
# Binary identifiers shown by AD's tools as GUID strings ({xxxxxxxx-xxxx-...}).
GUID_ATTRIBUTES = frozenset({"objectguid", "ms-ds-consistencyguid"})
USN = "uSNChanged"
MODIFIED = "modifyTimestamp"


def normalise(raw: Mapping[str, Sequence[bytes]]) -> Attributes:
    """Attribute names are case-insensitive and may carry options (``member;range=0-1499``):
    key by the bare lower-case name."""
    found: Attributes = {}
    for name, values in raw.items():
        found.setdefault(name.split(";", 1)[0].lower(), []).extend(values)
    return found


def requested(settings: DirectorySettings) -> list[str]:
    """The attributes a user scan asks for: the mapped ones, the external id, and the kind's
    change mark (operational attributes are only returned when named)."""
    mapping = settings.attributes
    names = [
        *mapping.user_id,
        mapping.first_name,
        mapping.last_name,
        mapping.email,
        mapping.phone,
        mapping.mobile,
        mapping.home_phone,
        mapping.pager,
        mapping.fax,
        mapping.ip_phone,
        *((mapping.extension,) if mapping.extension else ()),
        mapping.groups,
        settings.external_id_attribute,
    ]
    if settings.kind is DirectoryKind.ACTIVE_DIRECTORY:
        names += ["userAccountControl", USN]
    else:
        names.append(MODIFIED)
    return _unique(names)


def to_entry(dn: str, attributes: Attributes, settings: DirectorySettings) -> DirectoryEntry | None:
    """The entry as Twostep sees it, or None when it has no external id (it cannot be
    followed across renames, so it is not taken)."""
    external_id = identifier(settings.external_id_attribute, attributes)
    if external_id is None:
        return None
    mapping = settings.attributes
    user_id = next(
        (value for name in mapping.user_id if (value := text(attributes, name)) is not None), None
    )
    return DirectoryEntry(
        external_id=external_id,
        dn=dn,
        user_id=user_id,
        first_name=text(attributes, mapping.first_name),
        last_name=text(attributes, mapping.last_name),
        email=text(attributes, mapping.email),
        phone=text(attributes, mapping.phone),
        mobile=text(attributes, mapping.mobile),
        home_phone=text(attributes, mapping.home_phone),
        pager=text(attributes, mapping.pager),
        fax=text(attributes, mapping.fax),
        ip_phone=text(attributes, mapping.ip_phone),
        extension=text(attributes, mapping.extension) if mapping.extension else None,
        groups=tuple(texts(attributes, mapping.groups)),
        disabled=bool((number(attributes, "userAccountControl") or 0) & ACCOUNTDISABLE),
    )


def identifier(name: str, attributes: Attributes) -> str | None:
    """The stable id: a GUID attribute as its GUID string, text (entryUUID) in lower case,
    any other binary value as lower-case hex."""
    values = attributes.get(name.lower())
    if not values or not values[0]:
        return None
    raw = values[0]
    if name.lower() in GUID_ATTRIBUTES and len(raw) == 16:
        return str(uuid.UUID(bytes_le=raw))
    try:
        decoded = raw.decode("ascii")
    except UnicodeDecodeError:
        return raw.hex()
    return decoded.strip().lower() if decoded.isprintable() and decoded.strip() else raw.hex()


def texts(attributes: Attributes, name: str) -> list[str]:
    """Every non-blank value of an attribute, as text."""
    found = (v.decode("utf-8", "replace").strip() for v in attributes.get(name.lower(), ()))
    return [value for value in found if value]


def text(attributes: Attributes, name: str) -> str | None:
    """The first non-blank value (a multi-valued phone or mail: the first one)."""
    values = texts(attributes, name)
    return values[0] if values else None


def number(attributes: Attributes, name: str) -> int | None:
    value = text(attributes, name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _unique(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return kept
