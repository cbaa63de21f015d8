"""The sign-in's policy steps, in their order, once the user (and any primary password) is
known: whether a second factor is asked at all, and which of the user's methods may give
it. Pure: it reads the one subject read and the clock, and writes nothing.

1. MFA disabled for the user: accept without a second factor
2. locked: reject
3. an admin asked the user to register again: registration_required
   (a user disabled was refused before this, by the flow itself)
3a. the second factor skipped (``Skip``): the client address an integration vouches for is
   in a trusted network (accept, trusted_network), else the user's one-time bypass is open
   (accept, bypass: the flow then claims it). The tenant's registration policy still
   applies first: a user of its groups without a method of its kinds answers
   registration_policy, skip or not. An integration that ``never_skips`` (the management
   portal's own sign-in) has no skip at all.
4. no active method: no_method_registered, or token_expired when the user's only
   methods (or the only ones of the asked-for kind) are hardware tokens past the end of
   the validity period their vendor's file set
5. the tenant's registration policy covers one of the user's groups and the user has no
   method of the kinds it asks for: registration_policy. The self-service portal's own
   sign-in (``registering``) goes on to the second factor instead when the user has a
   method they may use: they prove it is them before registering the kind asked, and no
   skip stands for that proof (interfaces/web/my/signin.py opens only the registration)
6. a kind the tenant turned off: asked for (method_disabled), or the user's default when
   nothing was asked (default_method_disabled); the other methods stay offered
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twostep.domain import networks
from twostep.domain.entities import Integration, Method, MethodKind, MethodStatus, MfaState, User
from twostep.domain.ports.subjects import Subject
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import AccessSettings
from twostep.services.codes import usable


@dataclass(frozen=True, slots=True)
class Offer:
    """The methods that may answer this sign-in (the default first), and their kinds."""

    methods: tuple[Method, ...]
    listed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Skip:
    """Why this sign-in may go without a second factor, once the user's standing allows:
    the decision it ends with, and what the audit event's detail records."""

    decision: Decision
    detail: str | None = None


def skip(
    subject: Subject,
    integration: Integration,
    sent_ip: str | None,
    now: float,
    remembered: bool = False,
) -> Skip | None:
    """A trusted network first (it spends nothing), then a remembered browser, then a
    one-time bypass. A client address counts only when the integration sent it and is
    flagged to vouch for the addresses it sends; an unflagged integration's address is only
    recorded. ``remembered``: a page checked this user's remembered-device cookie (pages
    only); it counts while the tenant keeps remember_device_enabled on."""
    if integration.never_skips:  # the management portal's sign-in: Twostep protects itself
        return None
    user = subject.user
    settings = subject.tenant.settings
    access = settings.access
    if access.trusted_networks_enabled and integration.trusted_client_addresses:
        block = networks.matching(sent_ip, access.trusted_networks)
        if block is not None:
            return Skip(Decision(Result.ACCEPT, Reason.TRUSTED_NETWORK), block)
    if remembered and settings.pages.remember_device_enabled:
        return Skip(Decision(Result.ACCEPT, Reason.REMEMBERED_DEVICE))
    if user is not None and user.bypass_pending(now):
        return Skip(Decision(Result.ACCEPT, Reason.BYPASS))
    return None


def _reject(reason: Reason, listed: tuple[str, ...] = ()) -> Decision:
    return Decision(Result.REJECT, reason, methods=listed)


def _group_names(dn: str) -> set[str]:
    """A group as a policy may name it: its DN, or the value of its first RDN (the CN)."""
    first = dn.split(",", 1)[0]
    _attr, _eq, value = first.partition("=")
    return {dn.casefold(), (value or first).strip().casefold()}


def in_policy(user: User, access: AccessSettings) -> bool:
    if not access.registration_groups or not user.groups:
        return False
    wanted = {group.strip().casefold() for group in access.registration_groups}
    return any(_group_names(group) & wanted for group in user.groups)


def _expired(subject: Subject, now: float, kind: MethodKind | None = None) -> bool:
    """Whether an active method (of ``kind``) is unusable only because its validity period
    is over: the vendor's token reached its end of life, which the user and the help desk
    must hear as such rather than as "nothing registered". The methods are already read."""
    return any(
        m.status is MethodStatus.ACTIVE
        and m.valid_until is not None
        and m.valid_until <= now
        and (kind is None or m.kind is kind)
        for m in subject.methods
    )


def _usable(subject: Subject, now: float) -> list[Method]:
    user = subject.user
    assert user is not None
    return sorted(
        (m for m in subject.methods if usable(m, now)),
        key=lambda m: m.id != user.default_method_id,
    )


def policy_unmet(user: User, access: AccessSettings, registered: Sequence[Method]) -> bool:
    """The user is in the registration policy's groups without a method of its kinds among
    ``registered`` (their usable methods). The self-service portal asks the same question
    to send such a user to the registration (services/self_service.py)."""
    if not in_policy(user, access):
        return False
    off, kinds = set(access.disabled_kinds), set(access.registration_kinds)
    return not any(m.kind not in off and (not kinds or m.kind in kinds) for m in registered)


def _policy_unmet(subject: Subject, registered: list[Method]) -> bool:
    user = subject.user
    assert user is not None
    return policy_unmet(user, subject.tenant.settings.access, registered)


def second_factor(
    subject: Subject,
    now: float,
    asked: MethodKind | None,
    has_code: bool,
    skipped: Skip | None = None,
    registering: bool = False,
) -> Decision | Offer:
    user = subject.user
    assert user is not None
    access = subject.tenant.settings.access
    if user.mfa is MfaState.DISABLED:
        return Decision(Result.ACCEPT, Reason.MFA_NOT_REQUIRED)
    if user.is_locked(now):
        return _reject(Reason.USER_LOCKED)
    if user.registration_required_at is not None:
        return _reject(Reason.REGISTRATION_REQUIRED)
    registered = _usable(subject, now)
    off = set(access.disabled_kinds)
    unmet = _policy_unmet(subject, registered)
    # Step 5's exception: the portal asks the factor of one of its methods (never a skip).
    proving = registering and unmet and any(m.kind not in off for m in registered)
    if skipped is not None and not proving:
        if unmet:
            listed = tuple(sorted({m.kind.value for m in registered if m.kind not in off}))
            return _reject(Reason.REGISTRATION_POLICY, listed)
        return skipped.decision
    if not registered:
        return _reject(
            Reason.TOKEN_EXPIRED if _expired(subject, now) else Reason.NO_METHOD_REGISTERED
        )
    # Else the sign-in answers method_not_registered for a kind the user does not have.
    if (
        asked is not None
        and not any(m.kind is asked for m in registered)
        and _expired(subject, now, asked)
    ):
        return _reject(Reason.TOKEN_EXPIRED, tuple(sorted({m.kind.value for m in registered})))
    offered = tuple(m for m in registered if m.kind not in off)
    listed = tuple(sorted({m.kind.value for m in offered}))
    if unmet and not proving:
        return _reject(Reason.REGISTRATION_POLICY, listed)
    if asked is not None and asked in off:
        return _reject(Reason.METHOD_DISABLED, listed)
    default = registered[0] if registered[0].id == user.default_method_id else None
    if not offered or (asked is None and not has_code and default and default.kind in off):
        return _reject(Reason.DEFAULT_METHOD_DISABLED, listed)
    return Offer(offered, listed)
