"""What a sign-in is asked: the request every interface builds for the one sign-in flow
(services/signin.py), and how its fields are read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twostep.domain.entities import Integration, MethodKind
from twostep.domain.ports.users import PrimaryPasswords
from twostep.factors import registry


class Entry(StrEnum):
    """What ``typed`` holds: the one field a client without more fields has."""

    CODE = "code"  # a code, or a word naming a method (``push``, ``text``, ``call``)
    PASSWORD_AND_CODE = "password_and_code"  # noqa: S105 - the password then the code, or ",word"
    # The first answer of a client that shows challenges: nothing, a method's word, or the
    # primary password it forwards (checked when the user has one; never a code).
    PASSWORD_OR_WORD = "password_or_word"  # noqa: S105
    # A legacy client's only field: an app password, or the primary password of a user
    # without two-step verification (services/legacy.py).
    PASSWORD_ONLY = "password_only"  # noqa: S105


@dataclass(frozen=True, slots=True)
class SignInRequest:
    """Who asks (an authenticated integration, or the key to check in the same read)
    about which user, with what."""

    user: str
    integration: Integration | None = None
    integration_key: str | None = None
    tenant: str | None = None
    code: str | None = None
    method: MethodKind | None = None
    password: str | None = None  # the primary password: checked first; the user needs one
    typed: str | None = None  # what a client with one field sent (see ``entry``)
    entry: Entry = Entry.CODE
    state: str | None = None  # the challenge this request answers (a RADIUS State)
    client_ip: str | None = None
    # The client address the integration itself sent (validate's client_ip), which may meet
    # the tenant's trusted networks when the integration is flagged to vouch for it. Not an
    # address Twostep saw (a browser's) nor a NAS's own (RADIUS never sets it).
    sent_ip: str | None = None
    interface: str = "http"
    # A page (the hosted sign-in page, the self-service portal) checked this user's
    # remembered-device cookie (services/remembered_devices.py). Honoured for pages only.
    remembered_device: bool = False
    # The self-service portal's sign-in: a user the tenant's registration policy refuses
    # still passes the second factor with a method they have, to reach only the
    # registration (services/policy.py, step 5). Honoured for pages only.
    registering: bool = False
    # RADIUS challenge mode: without a code, a code method answers a challenge (State) that
    # the next request finishes, instead of rejecting with code_required.
    prompt_for_code: bool = False
    # The sign-in can show something after a challenge starts (False: a RADIUS client without
    # challenges, like RD Gateway): without it a push asks the device for approve or deny
    # only, and a code sent by text or email is not sent at all.
    can_prompt: bool = True
    wait: float = 0.0  # seconds to wait here for a challenge answered on the phone
    # A RADIUS client's own primary (LDAP bind, upstream RADIUS) in place of the tenant's,
    # its "require user match" and its OATH fallback (services/signin_options.py).
    primary: PrimaryPasswords | None = None
    require_user_match: bool = True
    oath_fallback: bool = False


@dataclass(frozen=True, slots=True)
class Asked:
    """A request's second factor once its fields are read."""

    code: str | None
    method: MethodKind | None
    password: str | None  # a password to check (alone)
    combined: str | None  # a password with the code after it, to split
    required: bool  # the user must have a password (False: a NAS forwarded it)
    legacy: str | None = None  # a legacy client's one field (Entry.PASSWORD_ONLY)


def word_or_code(text: str | None) -> tuple[str | None, MethodKind | None]:
    value = (text or "").strip()
    if not value:
        return None, None
    picked = registry.by_word(value)
    return (None, picked.kind) if picked is not None else (value, None)


def read(request: SignInRequest) -> Asked:
    if request.entry is Entry.PASSWORD_ONLY:
        return Asked(None, None, None, None, required=True, legacy=request.typed or "")
    if request.entry is Entry.PASSWORD_AND_CODE:
        return Asked(request.code, request.method, None, request.typed or "", required=True)
    if request.entry is Entry.PASSWORD_OR_WORD:
        code, method = word_or_code(request.typed)
        if code is not None:  # not a method's word: the password a NAS forwards
            return Asked(None, request.method, code, None, required=False)
        return Asked(None, method or request.method, None, None, required=False)
    code, method = word_or_code(request.typed)
    return Asked(
        request.code if request.code is not None else code,
        request.method or method,
        request.password,
        None,
        required=True,
    )


def remembered(request: SignInRequest) -> bool:
    """A remembered browser counts at the pages only (never RADIUS or the validate API)."""
    return request.remembered_device and request.interface == "web"


def registering(request: SignInRequest) -> bool:
    """The portal's purpose counts at the pages only (never RADIUS or the validate API)."""
    return request.registering and request.interface == "web"
