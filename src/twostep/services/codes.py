"""The code step of a sign-in: which methods a typed code is tried against, the match
(CPU only, outside any transaction), and the claim that makes it one-time (one conditional
update: two nodes cannot both accept it), with the failure count."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from twostep.domain.entities import Method, MethodKind, MethodStatus, OtpParams, User
from twostep.domain.ports.methods import OneTimeClaims
from twostep.domain.ports.secrets import SecretBox
from twostep.domain.ports.users import Lockout
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.sealing import method_context
from twostep.domain.settings import TenantSettings
from twostep.factors import otp, registry
from twostep.factors.base import CodeMatch
from twostep.services.lockout import count_failure

# Spent on unknown users so they take about as long as a wrong code for a real one.
_DUMMY_SEED = b"\x00" * 20
_DUMMY_PARAMS = OtpParams()


def spend_like_a_code(code: str, now: float) -> None:
    """The work of matching a code, for a user who does not exist."""
    otp.match_totp(_DUMMY_SEED, _DUMMY_PARAMS, code, now, 1)


def usable(method: Method, now: float) -> bool:
    """Active, and inside the validity period a token vendor may have set."""
    return (
        method.status is MethodStatus.ACTIVE
        and (method.valid_from is None or method.valid_from <= now)
        and (method.valid_until is None or now < method.valid_until)
    )


def candidates(
    user: User, active: tuple[Method, ...], asked: MethodKind | None, has_code: bool
) -> tuple[Method, ...]:
    """The asked-for kind; else, with a code, every code method (the default first);
    else the default method."""
    default_first = sorted(active, key=lambda m: m.id != user.default_method_id)
    if asked is not None:
        return tuple(m for m in default_first if m.kind is asked)
    if has_code:
        coded = tuple(m for m in default_first if registry.kind(m.kind).code is not None)
        return coded or tuple(default_first[:1])
    return tuple(default_first[:1])


def match(
    box: SecretBox,
    methods: tuple[Method, ...],
    sealed: Mapping[str, bytes],
    code: str,
    now: float,
    settings: TenantSettings,
) -> tuple[Method | None, CodeMatch | None]:
    """The first method the code matches, and what it matched (a step or a counter)."""
    for method in methods:
        factor = registry.kind(method.kind).code
        blob = sealed.get(method.id)
        if factor is None or blob is None:
            continue
        seed = box.open(blob, method_context(method.id))
        found = factor.match(method, seed, code, now, settings)
        if found is not None:
            return method, found
    return None, None


class ClaimWork(Protocol):
    """What recording a code's outcome needs of a unit of work."""

    @property
    def methods(self) -> OneTimeClaims: ...

    @property
    def users(self) -> Lockout: ...


def record(
    tx: ClaimWork,
    user: User,
    method: Method | None,
    found: CodeMatch | None,
    now: float,
    settings: TenantSettings,
    listed: tuple[str, ...],
) -> Decision:
    """Claim the matched step or counter, in ``tx``: accept once; a replay or a wrong code
    counts one failure toward the lockout."""
    if method is not None and found is not None:
        if found.step is not None:
            claimed = tx.methods.claim_step(method.id, found.step, now)
        else:
            assert found.counter is not None
            claimed = tx.methods.claim_counter(method.id, found.counter, now)
        if claimed:
            # Most users have no failures to forget: skip the write then. A failure racing
            # in on another node survives, which only errs towards lockout.
            if user.failed_count == 0 or tx.users.reset_failures_unless_locked(user.id, now):
                return Decision(Result.ACCEPT, methods=listed)
            return Decision(Result.REJECT, Reason.USER_LOCKED)
        if tx.users.locked(user.id, now):  # locked by a racing failure on another node
            return Decision(Result.REJECT, Reason.USER_LOCKED)
        reason = Reason.CODE_REPLAYED
    else:
        reason = Reason.INVALID_CODE
    count_failure(tx, user, now, settings)
    return Decision(Result.REJECT, reason)
