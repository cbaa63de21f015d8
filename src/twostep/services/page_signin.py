"""A sign-in at the pages, step by step, over the one sign-in service (services/signin.py):
this module keeps no rule of its own. It names the integration the pages sign in through,
and says which call of the sign-in service each step of a page makes.

The integration: a page is no integration an admin made. Each page set signs in through a
built-in integration of the user's tenant, ``pages`` (the management portal) or ``portal``
(the self-service portal), made here in memory and never stored: there is no key to leak
and nothing for an admin to delete. It is the audit event's integration; the event's
interface is ``web``. The management portal's never skips the second factor (no
one-time bypass, trusted network or remembered browser: Twostep protects itself, so a help
desk's bypass never turns an admin's sign-in into a password alone).

The portal's requests are ``registering`` (services/signin.py): a user the tenant's
registration policy refuses, who has a method they may use, is asked its second factor
rather than refused, and the portal then opens only the registration.

The steps: ``password`` (the primary password; a code method answers a prompt, an
out-of-band one starts its challenge), then ``code``, ``switch``, ``outcome`` and
``resend`` on the transaction that step started.
"""

from __future__ import annotations

from dataclasses import dataclass

from twostep.domain.entities import Integration, MethodKind
from twostep.domain.results import Decision, Reason, Result
from twostep.factors import registry
from twostep.factors.base import Family
from twostep.services.challenges import ChallengeService
from twostep.services.context import Deps
from twostep.services.delivered import DeliveredChallenges
from twostep.services.passwords import verify_password
from twostep.services.signin import SignIn
from twostep.services.signin_request import SignInRequest

INTERFACE = "web"
PAGES = "pages"  # the management portal's integration
PORTAL = "portal"  # the self-service portal's

# Refusals a wrong user name, tenant or password could explain: the page says only that
# the sign-in failed (no user enumeration); the audit event keeps the reason.
HIDDEN_REASONS = frozenset(
    {
        Reason.INVALID_PASSWORD,
        Reason.INVALID_CODE,
        Reason.USER_LOCKED,
        Reason.USER_DISABLED,
        Reason.DIRECTORY_UNAVAILABLE,
    }
)


@dataclass(frozen=True, slots=True)
class Pending:
    """A second factor in progress: the transaction and its method kind. ``fresh``: a code
    prompt no answer has used yet (its transaction is answered through the sign-in's
    ``continue_``, which closes it; later tries go straight to the sign-in)."""

    transaction_id: str
    kind: MethodKind
    fresh: bool


class PageSignIn:
    def __init__(
        self,
        deps: Deps,
        signin: SignIn,
        challenges: ChallengeService,
        delivered: DeliveredChallenges,
        name: str = PAGES,
    ) -> None:
        self.deps = deps
        self.signin = signin
        self.challenges = challenges
        self.delivered = delivered
        self.name = name
        self.registering = name == PORTAL  # the portal's sign-in may lead to registering

    def integration(self, tenant_name: str) -> Integration | None:
        """The tenant's built-in integration for these pages; None: no such tenant."""
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_name(tenant_name)
        if tenant is None:
            return None
        return Integration(
            id=0,
            tenant_id=tenant.id,
            name=self.name,
            key_id=self.name,
            created_at=0.0,
            never_skips=self.name == PAGES,  # an admin's sign-in always asks the factor
        )

    def password(
        self,
        integration: Integration,
        user: str,
        password: str,
        client_ip: str | None,
        remembered_device: bool = False,
    ) -> Decision:
        """The first step: the primary password, then the user's default method (skipped
        for a remembered browser the page recognised, ``remembered_device``)."""
        return self.signin.sign_in(
            SignInRequest(
                user=user,
                integration=integration,
                password=password,
                client_ip=client_ip,
                interface=INTERFACE,
                prompt_for_code=True,
                remembered_device=remembered_device,
                registering=self.registering,
            )
        )

    @staticmethod
    def no_such_tenant(password: str) -> Decision:
        """A sign-in naming no tenant: the work of a password check, then a wrong
        password's answer (no audit event: there is no tenant to write it to)."""
        verify_password(None, password)
        return Decision(Result.REJECT, Reason.INVALID_PASSWORD)

    def pending(self, decision: Decision) -> Pending | None:
        """What a challenge answer started, to keep for the next step."""
        if decision.result is not Result.CHALLENGE or decision.transaction_id is None:
            return None
        found = self.challenges.find(decision.transaction_id)
        if found is None:
            return None
        kind = found.challenge.kind
        fresh = registry.kind(kind).family is Family.CODE
        return Pending(decision.transaction_id, kind, fresh)

    def code(
        self,
        integration: Integration,
        user: str,
        pending: Pending,
        code: str,
        client_ip: str | None,
    ) -> Decision:
        """A code typed at the page: for a code method's prompt, an app's or a token's code;
        for a text, call or email challenge, the code it sent."""
        spec = registry.kind(pending.kind)
        if pending.fresh:
            return self.signin.continue_(self._request(integration, user, client_ip, pending, code))
        if spec.challenge is not None and spec.challenge.typed:
            return self.delivered.submit(integration, pending.transaction_id, code)
        if spec.family is not Family.CODE:  # a push or a call is answered on the phone
            return self.outcome(integration, pending)
        request = SignInRequest(
            user=user,
            integration=integration,
            code=code,
            method=pending.kind,
            client_ip=client_ip,
            interface=INTERFACE,
            registering=self.registering,
        )
        return self.signin.sign_in(request)

    def switch(
        self,
        integration: Integration,
        user: str,
        pending: Pending | None,
        kind: MethodKind,
        client_ip: str | None,
    ) -> Decision:
        """Another of the user's methods for this sign-in. An unused code prompt is closed
        as superseded on the way (the sign-in's own switch)."""
        if pending is not None and pending.fresh:
            word = registry.kind(kind).words[0]
            return self.signin.continue_(self._request(integration, user, client_ip, pending, word))
        request = SignInRequest(
            user=user,
            integration=integration,
            method=kind,
            client_ip=client_ip,
            interface=INTERFACE,
            prompt_for_code=True,
            registering=self.registering,
        )
        return self.signin.sign_in(request)

    def outcome(self, integration: Integration, pending: Pending) -> Decision:
        """The challenge's outcome so far (a push or a call is answered on the phone)."""
        return self.challenges.outcome(integration, pending.transaction_id)[0]

    def resend(self, integration: Integration, pending: Pending) -> Decision:
        """The text or email once more, with a new code (the sign-in's limits apply)."""
        return self.delivered.resend(integration, pending.transaction_id)

    def _request(
        self,
        integration: Integration,
        user: str,
        client_ip: str | None,
        pending: Pending,
        typed: str,
    ) -> SignInRequest:
        return SignInRequest(
            user=user,
            integration=integration,
            state=pending.transaction_id,
            typed=typed,
            client_ip=client_ip,
            interface=INTERFACE,
            prompt_for_code=True,
            registering=self.registering,
        )
