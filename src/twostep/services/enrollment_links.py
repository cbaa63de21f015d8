"""One-time enrollment links: how a user with no method yet registers a first one at the
self-service portal when an admin sends them a link (a new user, a user who lost their
only phone and was asked to register again).

An admin creates a link for a user (``create``): a random 256-bit token in a URL under
``/my/enroll/``, shown once; the store keeps only the token's SHA-256 (at 256 random bits a
key or a slow hash adds nothing, and a digest needs no server key, so links survive a
secret-key rotation). A link works once, for the tenant's ``enrollment_link_seconds``
(default 7 days). A new link revokes the user's open ones.

Redeeming (``redeem``) opens the portal's registration for the link's user: after their
primary password when they have one (a local password, or a directory that checks
passwords by a bind: checked through the one sign-in flow, audited, counted toward the
lockout), with the link alone when they have none. The link is spent by one conditional
update, so of two redeems one wins. A link stops working as soon as the user has a
method, however it was registered: registering at the portal revokes the user's open
links, and a link redeemed after a registration elsewhere (an admin, a device's
activation) is revoked then and refused.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from twostep.domain.entities import AdminKey, Tenant, User
from twostep.domain.errors import (
    EnrollmentLinkInvalid,
    InvalidInput,
    Unauthenticated,
    UserRegistered,
)
from twostep.domain.ports.storage import Transaction
from twostep.domain.results import Reason, Result
from twostep.domain.self_service import EnrollmentLink
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.codes import usable
from twostep.services.context import Deps
from twostep.services.page_signin import INTERFACE
from twostep.services.self_service import Me, portal_integration, self_actor
from twostep.services.signin import SignIn
from twostep.services.signin_request import SignInRequest

PATH = "/my/enroll/"  # the portal's landing page; the token follows
_MAX_TOKEN = 64
# What the sign-in answers when the password was right and the user has nothing to sign
# in with: the link may open the registration.
_REGISTERING = frozenset(
    {Reason.NO_METHOD_REGISTERED, Reason.REGISTRATION_REQUIRED, Reason.TOKEN_EXPIRED}
)


@dataclass(frozen=True, slots=True)
class NewEnrollmentLink:
    link: EnrollmentLink
    url: str  # holds the token: shown once, sent to the user


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the landing page shows before the link is spent."""

    tenant: str
    user: str
    needs_password: bool
    expires_at: float


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_password(tx: Transaction, user: User) -> bool:
    """Whether the sign-in has a primary password of the user to check: a local one, or
    a directory that binds as the user (services/primary.py decides the same way)."""
    if tx.passwords.get(user.id) is not None:
        return True
    if user.directory_id is None or user.dn is None:
        return False
    directory = tx.directories.by_id(user.directory_id)
    return directory is not None and directory.settings.password_bind


class EnrollmentLinks:
    def __init__(self, deps: Deps, signin: SignIn, public_url: str) -> None:
        self.deps = deps
        self.signin = signin
        self.public_url = public_url.rstrip("/")

    # -- admins ------------------------------------------------------------------------

    def create(self, actor: AdminKey, tenant_name: str, user_name: str) -> NewEnrollmentLink:
        """A link for a user with no method yet (``user_registered`` otherwise)."""
        token = secrets.token_urlsafe(32)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if any(usable(m, now) for m in tx.methods.for_user(user.id)):
                raise UserRegistered(
                    f"{user.name} already has a method: they sign in with it (or require "
                    "re-registration first)"
                )
            revoked = tx.enrollment_links.revoke_open(user.id, now)
            link = EnrollmentLink(
                id=secrets.token_hex(8),
                tenant_id=tenant.id,
                user_id=user.id,
                created_at=now,
                expires_at=now + tenant.settings.pages.enrollment_link_seconds,
                created_by=actor.key_id[:64],
            )
            tx.enrollment_links.add(link, token_hash(token))
            # Never the token: whoever holds it registers a method as this user.
            changed = {"expires_at": [None, link.expires_at], "revoked_links": [revoked, 0]}
            target = f"{user.name}/{link.id}"
            admin_log.record(
                tx, self.deps, actor, tenant, "enrollment_link.create", target, changed
            )
        return NewEnrollmentLink(link, f"{self.public_url}{PATH}{token}")

    def list(self, actor: AdminKey, tenant_name: str, user_name: str) -> Sequence[EnrollmentLink]:
        with self.deps.storage.transaction() as tx:
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            return tx.enrollment_links.for_user(user.id)

    def revoke(self, actor: AdminKey, tenant_name: str, user_name: str) -> int:
        """Revoke the user's open links; how many."""
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            revoked = tx.enrollment_links.revoke_open(user.id, self.deps.clock.now())
            changed = {"revoked_links": [revoked, 0]}
            admin_log.record(
                tx, self.deps, actor, tenant, "enrollment_link.revoke", user.name, changed
            )
        return revoked

    # -- the user with the link --------------------------------------------------------

    def look(self, token: str) -> LinkView:
        """The open link ``token`` names, for its landing page (nothing is spent)."""
        with self.deps.storage.transaction() as tx:
            link, tenant, user = self._open(tx, token, self.deps.clock.now())
            return LinkView(tenant.name, user.name, has_password(tx, user), link.expires_at)

    def redeem(self, token: str, password: str | None, client_ip: str | None) -> Me:
        """Spend the link: the user it was made for, to register a first method."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            link, tenant, user = self._open(tx, token, now)
            needs_password = has_password(tx, user)
            registered = any(usable(m, now) for m in tx.methods.for_user(user.id))
        if registered:  # registered since the link was made: it has no use any more
            with self.deps.storage.transaction(write=True) as tx:
                tx.enrollment_links.revoke_open(user.id, now)
            raise EnrollmentLinkInvalid("you already have a method: sign in with it")
        me = Me(tenant.id, tenant.name, user.id, user.name, client_ip)
        if needs_password:
            self._check_password(tenant, user, password, client_ip)
        elif user.is_locked(now):
            raise Unauthenticated("this user is locked: ask an administrator")
        with self.deps.storage.transaction(write=True) as tx:
            if not tx.enrollment_links.use(link.id, now):  # another request spent it first
                raise EnrollmentLinkInvalid()
            changed = {"used": [False, True], "password": [None, needs_password]}
            target = f"{user.name}/{link.id}"
            admin_log.record(
                tx, self.deps, self_actor(me), tenant, "enrollment_link.use", target, changed
            )
        return me

    # -- internals ---------------------------------------------------------------------

    @staticmethod
    def _open(tx: Transaction, token: str, now: float) -> tuple[EnrollmentLink, Tenant, User]:
        """The link, its tenant and its user, if it may still be used."""
        if not token or len(token) > _MAX_TOKEN:
            raise EnrollmentLinkInvalid()
        link = tx.enrollment_links.by_token(token_hash(token))
        tenant = tx.tenants.by_id(link.tenant_id) if link is not None else None
        user = tx.users.by_id(link.user_id) if link is not None else None
        if link is None or tenant is None or user is None or user.disabled:
            raise EnrollmentLinkInvalid()
        if link.status(now) != "open":
            raise EnrollmentLinkInvalid()
        return link, tenant, user

    def _check_password(
        self, tenant: Tenant, user: User, password: str | None, client_ip: str | None
    ) -> None:
        if not password:
            raise InvalidInput("your password is asked first", field="password")
        decision = self.signin.sign_in(
            SignInRequest(
                user=user.name,
                integration=portal_integration(tenant.id),
                password=password,
                client_ip=client_ip,
                interface=INTERFACE,
                prompt_for_code=True,
            )
        )
        right = decision.result is Result.ACCEPT or decision.reason in _REGISTERING
        if not right:
            raise Unauthenticated("the sign-in was refused: check your password")
