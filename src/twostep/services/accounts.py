"""The account events a help desk meets every week: a user to disable or enable, and a
user who must register again (a lost phone, a new one, a suspected compromise).

"Require re-registration" removes every method of the user (hardware tokens go back to the
tenant's pool, unassigned, rather than lose their seed), revokes their devices (which then
hear ``account_not_activated``), cancels their unused activation codes and closes their
pending challenges; their next sign-in answers ``registration_required`` until they
register a method again. All of it in one transaction, with one admin event.
"""

from __future__ import annotations

from dataclasses import replace

from twostep.domain.entities import (
    AdminKey,
    DeviceState,
    DisabledReason,
    MethodStatus,
    User,
)
from twostep.domain.results import Reason
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.challenges import ChallengeService
from twostep.services.context import Deps

REREGISTRATION = "reregistration"  # the revoked devices' reason


class AccountService:
    def __init__(self, deps: Deps, challenges: ChallengeService) -> None:
        self.deps = deps
        self.challenges = challenges

    def disable(self, actor: AdminKey, tenant_name: str, user_name: str) -> User:
        """Every sign-in of the user answers ``user_disabled`` until enabled again."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if tx.users.set_disabled(user.id, now, DisabledReason.ADMIN.value):
                admin_log.record(
                    tx,
                    self.deps,
                    actor,
                    tenant,
                    "user.disable",
                    user.name,
                    {"disabled": [False, True]},
                )
                user = replace(user, disabled_at=now, disabled_reason=DisabledReason.ADMIN.value)
        return user

    def enable(self, actor: AdminKey, tenant_name: str, user_name: str) -> User:
        """Undo a disable, whoever made it (an admin's, or the directory's until its next
        sync finds the user still gone)."""
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if tx.users.set_disabled(user.id, None, None):
                admin_log.record(
                    tx,
                    self.deps,
                    actor,
                    tenant,
                    "user.enable",
                    user.name,
                    {"disabled": [True, False], "disabled_reason": [user.disabled_reason, None]},
                )
                user = replace(user, disabled_at=None, disabled_reason=None)
        return user

    def require_registration(self, actor: AdminKey, tenant_name: str, user_name: str) -> User:
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            methods = tx.methods.for_user(user.id)
            for method in methods:
                if method.serial is None:  # only hardware tokens have one (and a pool)
                    tx.methods.delete(method.id)
                elif method.status is not MethodStatus.LOST:  # a lost one stays, listed
                    tx.tokens.unassign(method.id)  # back to the pool, its seed kept
            revoked = [
                d.id
                for d in tx.devices.for_user(user.id)
                if d.state is DeviceState.ACTIVE and tx.devices.revoke(d.id, now, REREGISTRATION)
            ]
            cancelled = tx.activations.cancel_for_user(user.id, now)
            forgotten = tx.remembered_devices.delete_for_user(user.id)  # remembered browsers
            tx.users.require_registration(user.id, now)
            pending = tx.challenges.pending_of_user(user.id, now)
            admin_log.record(
                tx,
                self.deps,
                actor,
                tenant,
                "user.require_registration",
                user.name,
                {
                    "methods": [len(methods), sum(m.status is MethodStatus.LOST for m in methods)],
                    "devices": [len(revoked), 0],
                    "activations": [cancelled, 0],
                    "remembered_devices": [forgotten, 0],
                    "registration_required": [False, True],
                },
            )
        # Each pending sign-in ends now, audited like any closed challenge (its own write).
        for challenge_id in pending:
            parties = self.challenges.find(challenge_id)
            if parties is not None:
                self.challenges.close(parties, Reason.REGISTRATION_REQUIRED, now)
        return replace(user, registration_required_at=now, default_method_id=None)
