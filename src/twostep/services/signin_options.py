"""Two steps of the sign-in flow that a RADIUS client turns on, as Azure MFA Server had them.

**Require user match** (on by default). Off, a user the primary password was checked for
(by a client's LDAP or upstream RADIUS primary: never without one) who is *unmatched* is
accepted on that password alone, audited as ``accept`` / ``user_match_not_required``.
Unmatched means exactly:

* a user name Twostep does not know, or
* a known user with no active method at all (``no_method_registered``).

Every other refusal stands, because each is a deliberate state rather than a user not yet
brought in: disabled, locked, an admin asked for a new registration
(``registration_required``), the group's registration policy (``registration_policy``), the
only tokens expired (``token_expired``: a factor the user had), a kind turned off.

**OATH fallback** (off by default). When the user's method fails (a push denied or
unanswered, a call not answered, a text or call that could not be delivered), and the user
has an authenticator app code or an OATH token, the answer is an Access-Challenge asking
for that code instead of the reject; its State is the ordinary code prompt
(``States.prompt_code``), so the code is checked by the same flow as any other. A fraud
report never falls back.
"""

from __future__ import annotations

from dataclasses import replace

from twostep.domain.audit import AuditEvent
from twostep.domain.entities import MethodKind
from twostep.domain.ports.subjects import Subject
from twostep.domain.results import Decision, Reason, Result
from twostep.services.challenges import StartRequest
from twostep.services.codes import usable
from twostep.services.states import States

UNMATCHED = Decision(Result.ACCEPT, Reason.USER_MATCH_NOT_REQUIRED)
# A known user's refusals that mean "not enrolled" (see the module's docstring).
UNENROLLED = frozenset({Reason.NO_METHOD_REGISTERED})
# The method's failures that offer the OATH code (never fraud_reported).
FALLS_BACK = frozenset(
    {Reason.DENIED, Reason.TIMEOUT, Reason.CALL_NOT_ANSWERED, Reason.DELIVERY_FAILED}
)
OATH_KINDS = (MethodKind.APP_CODE, MethodKind.OATH_TOKEN)
FALLBACK_PROMPT = "Enter the code from your authenticator app or token"


def accepts_unmatched(require_user_match: bool, external_primary: bool, checked: bool) -> bool:
    """Whether an unmatched user is let in: the client does not require a match, and its
    own primary (LDAP or upstream RADIUS) accepted the password in this request."""
    return not require_user_match and external_primary and checked


def unenrolled(decision: Decision) -> bool:
    return decision.result is Result.REJECT and decision.reason in UNENROLLED


def falls_back(decision: Decision) -> bool:
    return decision.result is Result.REJECT and decision.reason in FALLS_BACK


def oath_prompt(states: States, subject: Subject, event: AuditEvent, now: float) -> Decision | None:
    """The challenge for the user's OATH code (their default first), or None when they
    have no usable one (the failure then stands)."""
    user = subject.user
    if user is None or user.disabled or user.is_locked(now):
        return None
    off = set(subject.tenant.settings.access.disabled_kinds)
    tokens = sorted(
        (
            m
            for m in subject.methods
            if m.kind in OATH_KINDS and m.kind not in off and usable(m, now)
        ),
        key=lambda m: m.id != user.default_method_id,
    )
    if not tokens:
        return None
    first = tokens[0]
    listed = tuple(sorted({m.kind.value for m in tokens}))
    start = StartRequest(
        subject.tenant, user, first, replace(event, method=first.kind.value), listed, True
    )
    return replace(states.prompt_code(start), prompt=FALLBACK_PROMPT)
