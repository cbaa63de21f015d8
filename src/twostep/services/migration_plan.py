"""What migrating one MFA Server user would do, decided against what the tenant holds:
create the user, merge into the user already here, leave them unchanged, or skip them;
which methods to add; what cannot move. Pure: it reads nothing but its arguments.

Rules (docs/migrating-from-mfa-server.md says them to the administrator):

* the phone becomes a ``voice`` method and, when the number can take texts, an ``sms``
  one (texts go to the number without its extension); the backup phone a ``voice`` one;
* the OATH token an ``oath_token`` method with its seed (sealed like every seed);
* a user already here keeps what they have: only empty fields are filled, a method is
  added only when no method of that kind has that number (or that serial), and the
  default moves only when there is none;
* PIN mode, text message OTP+PIN and the mobile app cannot move (MFA Server keeps PINs
  hashed; an app's activation is bound to MFA Server): a created user who used them is
  marked to register again (``registration_required``), unless the caller said not to.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from twostep.domain.entities import Method, MethodKind, MethodStatus, User
from twostep.domain.errors import NumberNotAllowed
from twostep.domain.migration import (
    DefaultMethod,
    MfaServerUser,
    MigrationProblem,
    OathSeed,
    Phone,
    PinMode,
    TextMode,
)
from twostep.domain.phone import check_destination, mask_phone

# Problem codes the tenant's state adds to the document's (docs/error-codes.md).
SERIAL_IN_USE = "serial_in_use"
SECRET_DIFFERS = "secret_differs"  # noqa: S105 - a problem code
NUMBER_NOT_ALLOWED = "number_not_allowed"


# MFA Server's default methods, as the kinds made for them (the mobile app has none).
_DEFAULT_KINDS = {
    DefaultMethod.PHONE_CALL: MethodKind.VOICE,
    DefaultMethod.TEXT_MESSAGE: MethodKind.SMS,
    DefaultMethod.OATH_TOKEN: MethodKind.OATH_TOKEN,
}


class Action(StrEnum):
    CREATED = "created"
    MERGED = "merged"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class NewPhoneMethod:
    kind: MethodKind
    phone: Phone
    label: str

    def __str__(self) -> str:
        ext = f" x{self.phone.extension}" if self.phone.extension else ""
        return f"{self.kind.value} {_masked(self.phone.e164)}{ext} ({self.label})"


@dataclass(frozen=True, slots=True)
class NewToken:
    oath: OathSeed

    @property
    def kind(self) -> MethodKind:
        return MethodKind.OATH_TOKEN

    def __str__(self) -> str:
        return f"oath_token {self.oath.serial} (totp, {self.oath.period} s)"


NewMethodPlan = NewPhoneMethod | NewToken


@dataclass(frozen=True, slots=True)
class UserPlan:
    """One record's fate. Never holds a secret in what it shows (``str`` of its parts)."""

    record: MfaServerUser
    action: Action
    existing: User | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # user fields to set
    changes: dict[str, list[Any]] = field(default_factory=dict)  # for the report
    methods: tuple[NewMethodPlan, ...] = ()
    default: NewMethodPlan | None = None  # the method to make the default, if any
    reregister: tuple[str, ...] = ()  # the parts that cannot move (set on created users)
    notes: tuple[str, ...] = ()
    reason: str | None = None  # skipped: why


@dataclass(frozen=True, slots=True)
class Tenant:
    """What the plan reads of the tenant: its users by lookup key, their methods, its
    tokens by serial, and the allowed calling codes."""

    users: Mapping[str, User]
    methods_of: Callable[[int], Sequence[Method]]
    tokens: Mapping[str, Method]
    seed_of: Callable[[Method], bytes | None]  # an existing token's seed, opened
    allowed_calling_codes: tuple[str, ...]


def plan_user(
    record: MfaServerUser, key: str, tenant: Tenant, *, reregister: bool
) -> UserPlan | MigrationProblem:
    existing = tenant.users.get(key)
    if existing is not None and existing.disabled:
        why = "the user is disabled here: enable them, then migrate again to merge"
        return UserPlan(record, Action.SKIPPED, existing, reason=why)
    notes: list[str] = []
    wanted = _wanted_methods(record, tenant.allowed_calling_codes, notes)
    if isinstance(wanted, MigrationProblem):
        return wanted
    have = tenant.methods_of(existing.id) if existing is not None else ()
    adding: list[NewMethodPlan] = []
    for method in wanted:
        found = _already(method, record, existing, have, tenant)
        if isinstance(found, MigrationProblem):
            return found
        if not found:
            adding.append(method)
    default = _default(record, wanted, notes)
    parts = _cannot_move(record)
    if existing is None:
        fields = _new_fields(record)
        reregistered = parts if reregister else ()
        if parts and not reregister:
            notes.append(f"not marked to register again ({', '.join(parts)} did not move)")
        if default is None and adding and not reregistered:
            default = adding[0]  # a user who registers again chooses their default then
        changes = {name: [None, _shown(name, value)] for name, value in fields.items() if value}
        return UserPlan(
            record,
            Action.CREATED,
            None,
            fields,
            changes,
            tuple(adding),
            default,
            reregistered,
            tuple(notes),
        )
    fields, changes = _merge_fields(record, existing, notes)
    if parts:
        notes.append(f"already here, not marked to register again ({', '.join(parts)})")
    if existing.default_method_id is not None or default not in adding:
        default = None
    action = Action.MERGED if fields or adding or default else Action.UNCHANGED
    return UserPlan(
        record, action, existing, fields, changes, tuple(adding), default, (), tuple(notes)
    )


def _wanted_methods(
    record: MfaServerUser, allowed: tuple[str, ...], notes: list[str]
) -> list[NewMethodPlan] | MigrationProblem:
    wanted: list[NewMethodPlan] = []
    if record.phone is not None:
        problem = _callable(record, record.phone, "phone", allowed)
        if problem is not None:
            return problem
        wanted.append(NewPhoneMethod(MethodKind.VOICE, record.phone, "MFA Server phone"))
        refused = _refusal(record.phone.e164, True, allowed)
        if refused is not None:
            notes.append(f"no sms method: {refused}")
        else:  # a text goes to the number alone: an extension is for calls
            alone = Phone(record.phone.e164)
            wanted.append(NewPhoneMethod(MethodKind.SMS, alone, "MFA Server phone"))
    backup = record.backup_phone
    if backup is not None:
        if record.phone is not None and backup.e164 == record.phone.e164:
            notes.append("the backup phone is the phone: not added twice")
        else:
            problem = _callable(record, backup, "backupPhone", allowed)
            if problem is not None:
                return problem
            wanted.append(NewPhoneMethod(MethodKind.VOICE, backup, "MFA Server backup phone"))
    if record.oath is not None:
        wanted.append(NewToken(record.oath))
    return wanted


def _callable(
    record: MfaServerUser, phone: Phone, name: str, allowed: tuple[str, ...]
) -> MigrationProblem | None:
    refused = _refusal(phone.e164, False, allowed)
    return None if refused is None else _problem(record, NUMBER_NOT_ALLOWED, name, refused)


# Each number is checked and masked several times in one run (its call, its text, the
# report): parsing it once each way matters over 50,000 users.
@functools.lru_cache(maxsize=8192)
def _refusal(e164: str, texts: bool, allowed: tuple[str, ...]) -> str | None:
    """Why the tenant will not text (or call) the number; None: it will."""
    try:
        check_destination(e164, texts=texts, allowed_calling_codes=allowed)
    except NumberNotAllowed as exc:
        return exc.message
    return None


@functools.lru_cache(maxsize=8192)
def _masked(e164: str) -> str:
    return mask_phone(e164)


def _already(
    method: NewMethodPlan,
    record: MfaServerUser,
    existing: User | None,
    have: Sequence[Method],
    tenant: Tenant,
) -> bool | MigrationProblem:
    """Whether the user already has this method; a problem when its serial is taken."""
    if isinstance(method, NewPhoneMethod):
        return any(m.kind is method.kind and m.phone == method.phone.e164 for m in have)
    token = tenant.tokens.get(method.oath.serial)
    if token is None:
        return False
    field_name = "oathTokenSerialNumber"
    if existing is None or token.user_id != existing.id:
        holder = "in the token pool" if token.user_id is None else "another user's"
        why = f"serial {method.oath.serial} is already stored here ({holder})"
        return _problem(record, SERIAL_IN_USE, field_name, why)
    seed = tenant.seed_of(token)
    if seed is None or not hmac.compare_digest(seed, method.oath.seed):
        why = f"serial {method.oath.serial} is this user's already, with another secret key"
        return _problem(record, SECRET_DIFFERS, "oathTokenSecretKey", why)
    if token.status is MethodStatus.LOST:
        why = f"serial {method.oath.serial} is this user's already, reported lost"
        return _problem(record, SERIAL_IN_USE, field_name, why)
    return True


def _default(
    record: MfaServerUser, wanted: Sequence[NewMethodPlan], notes: list[str]
) -> NewMethodPlan | None:
    """The method that stands for MFA Server's default; else the first (with a note)."""
    kind = _DEFAULT_KINDS.get(record.default_method)
    if kind is None:  # the mobile app: nothing moved for it
        return None
    chosen = next((m for m in wanted if m.kind is kind), None)  # the phone's come first
    if chosen is None and wanted:
        chosen = wanted[0]
        notes.append(
            f"the default was {record.default_method.value}, which did not move "
            f"(no such number or token, or a number that takes no texts): {chosen} instead"
        )
    return chosen


def _cannot_move(record: MfaServerUser) -> tuple[str, ...]:
    parts: list[str] = []
    if record.mode is PinMode.PIN:
        parts.append("pin")
    if record.text_mode is TextMode.OTP_PIN and record.default_method is (
        DefaultMethod.TEXT_MESSAGE
    ):
        parts.append("text_pin")
    if record.default_method is DefaultMethod.MOBILE_APP or record.app_devices:
        parts.append("mobile_app")
    return tuple(parts)


def _new_fields(record: MfaServerUser) -> dict[str, Any]:
    return {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "email": record.email,
        "language": record.language,
        "phone": record.phone.e164 if record.phone else None,
        "groups": (record.group,) if record.group else (),
    }


def _merge_fields(
    record: MfaServerUser, user: User, notes: list[str]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Empty fields of the user here take MFA Server's value; a field that differs is
    kept as it is here, and said."""
    theirs = _new_fields(record)
    fields: dict[str, Any] = {}
    for name in ("first_name", "last_name", "email", "language", "phone"):
        value, ours = theirs[name], getattr(user, name)
        if value is None or value == ours:
            continue
        if ours is None:
            fields[name] = value
        else:
            notes.append(f"{name} differs: kept this server's")
    if theirs["groups"] and not user.groups:
        fields["groups"] = theirs["groups"]
    changes = {name: [None, _shown(name, value)] for name, value in fields.items()}
    return fields, changes


def _shown(name: str, value: Any) -> Any:
    """A field's value as the report shows it: a number masked, lists for tuples."""
    if name == "phone":
        return _masked(value)
    return list(value) if isinstance(value, tuple) else value


def _problem(record: MfaServerUser, code: str, field_name: str, reason: str) -> MigrationProblem:
    return MigrationProblem(code, field_name, reason, place=record.place, username=record.username)
