"""A directory entry as a Twostep user: the fields a sync writes, checked and bounded the
way every other way in checks them (user names by domain.names, numbers in E.164, no
control characters), and what differs from the user as stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

from twostep.domain.directory import DirectoryEntry
from twostep.domain.entities import User
from twostep.domain.errors import TwostepError
from twostep.domain.names import name_key, new_user_name
from twostep.domain.phone import normalise_phone
from twostep.domain.ports.directory import DirectoryUser
from twostep.domain.text import has_control

# The columns' sizes (adapters/storage/tables.py): a longer value would be refused by
# PostgreSQL and kept whole by SQLite; both get the same bounded value instead.
_NAME_PART = 128
_EMAIL = 320
_DN = 1024
_EXTERNAL_ID = 128
_GROUPS = 1000  # groups kept per user
_EMAIL_FORM = re.compile(r"^[^@\s]+@[^@\s]+$")

# Why an entry was passed over (a sync's problems name these).
NO_USER_ID = "no_user_id"
INVALID_USER_ID = "invalid_user_id"
INVALID_ENTRY = "invalid_entry"  # no usable DN or external id


@dataclass(frozen=True, slots=True)
class Mapped:
    user: DirectoryUser
    key: str  # the name's lookup key
    disabled: bool  # disabled in the directory (Active Directory's ACCOUNTDISABLE)
    bad_phone: bool  # a number the directory has could not be read as E.164


@dataclass(frozen=True, slots=True)
class Passed:
    """An entry that makes no user, and why."""

    reason: str
    detail: str


def _text(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or has_control(value):
        return None
    return value[:limit]


def phone_numbers(entry: DirectoryEntry) -> tuple[str | None, ...]:
    """The numbers that may become the user's phone, in the order they are tried.

    Twostep keeps one phone per user, for texts and calls (and the ``phone_methods`` made
    from it), so the first that reads as E.164 wins: ``mobile`` (it takes texts), then the
    office ``telephoneNumber``, then ``homePhone``, then ``ipPhone``. The office number is
    passed over when the entry has an extension: a call to it would reach the switchboard,
    not the user (Twostep does not dial extensions). ``pager`` and
    ``facsimileTelephoneNumber`` are read, as MFA Server read them, but never make a method:
    neither can answer a call or read a text."""
    office = entry.phone if not (entry.extension and entry.extension.strip()) else None
    return (entry.mobile, office, entry.home_phone, entry.ip_phone)


def _phone(entry: DirectoryEntry) -> tuple[str | None, bool]:
    """The user's phone in E.164 (``phone_numbers``); and whether one the directory has
    could not be read (a number without its country code, say)."""
    bad = False
    for raw in phone_numbers(entry):
        if raw and raw.strip():
            try:
                return normalise_phone(raw.strip()), bad
            except TwostepError:
                bad = True
    return None, bad


def map_entry(entry: DirectoryEntry) -> Mapped | Passed:
    """The user ``entry`` makes, or why it makes none."""
    if (
        not entry.external_id
        or len(entry.external_id) > _EXTERNAL_ID
        or has_control(entry.external_id)
        or not entry.dn
        or len(entry.dn) > _DN
        or has_control(entry.dn)
    ):
        return Passed(INVALID_ENTRY, "the entry's DN or stable id cannot be stored")
    if not entry.user_id or not entry.user_id.strip():
        return Passed(NO_USER_ID, "none of the user ID attributes is set")
    try:
        name = new_user_name(entry.user_id.strip())
    except TwostepError as exc:
        return Passed(INVALID_USER_ID, exc.message)
    email = _text(entry.email, _EMAIL)
    if email is not None and not _EMAIL_FORM.match(email):
        email = None
    phone, bad_phone = _phone(entry)
    groups = sorted({g for g in entry.groups if g and not has_control(g)})[:_GROUPS]
    user = DirectoryUser(
        name=name.display,
        external_id=entry.external_id,
        dn=entry.dn,
        first_name=_text(entry.first_name, _NAME_PART),
        last_name=_text(entry.last_name, _NAME_PART),
        email=email,
        phone=phone,
        groups=tuple(groups),
    )
    return Mapped(user=user, key=name.key, disabled=entry.disabled, bad_phone=bad_phone)


def changed_fields(user: User, wanted: DirectoryUser, directory_id: str) -> tuple[str, ...]:
    """The fields of ``user`` the directory has otherwise ("name" is a rename, "directory"
    a user made by hand now linked to the entry)."""
    found: list[str] = []
    if user.name != wanted.name:
        found.append("name")
    for field in ("first_name", "last_name", "email", "phone", "dn", "groups"):
        if getattr(user, field) != getattr(wanted, field):
            found.append(field)
    if user.directory_id != directory_id or user.external_id != wanted.external_id:
        found.append("directory")
    return tuple(found)


def same_name(user: User, key: str) -> bool:
    return name_key(user.name) == key
