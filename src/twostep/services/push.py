"""Push sign-ins (``app_push``): send a request to the user's device, take its signed answer.

The sign-in page shows a two-digit number; the user types it into the app and approves,
denies, or reports fraud. The answer is signed with the device's key over the
transaction, the decision, the number and the request's nonce (docs/device-api.md), so a
forged, replayed or crossed answer decides nothing but its own denial. Push-fatigue
limits (pending requests, a per-user rate, a pause after denials) hold across nodes.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from twostep.domain.challenges import Challenge, ChallengeState
from twostep.domain.delivery import ChannelGone, GatewayError, PushChannels
from twostep.domain.entities import Device, Tenant, User
from twostep.domain.errors import InvalidInput, TransactionNotFound
from twostep.domain.ports.challenges import DeliveryRepo, Waits, device_key
from twostep.domain.ports.devices import DeviceRepo
from twostep.domain.ports.storage import Storage
from twostep.domain.results import Decision, Reason, Result
from twostep.factors import app_push
from twostep.services.challenges import (
    ChallengeService,
    LedgerWork,
    StartRequest,
    admit,
    decided,
    new_transaction_id,
)
from twostep.services.context import Deps, device_context

log = logging.getLogger("twostep.push")

FATIGUE_WINDOW = 600  # the per-user request limit and the denial count look back 10 min
_WAKE = b'{"type":"request"}'  # all a push notification says
_KIND = app_push.KIND.kind.value


@dataclass(frozen=True, slots=True)
class PushRequest:
    """A pending request as the device sees it."""

    transaction_id: str
    integration: str | None
    client_ip: str | None
    created_at: float
    expires_at: float
    message: str
    nonce: str
    number_required: bool  # False: approve or deny only (the sign-in shows no number)


class PushWork(LedgerWork, Protocol):
    """Deciding, with the push-fatigue counts and the user's devices."""

    @property
    def deliveries(self) -> DeliveryRepo: ...

    @property
    def devices(self) -> DeviceRepo: ...


class PushService:
    def __init__(
        self,
        deps: Deps,
        challenges: ChallengeService,
        channels: PushChannels,
        waits: Waits | None = None,
    ) -> None:
        self.deps = deps
        self.storage: Storage[PushWork] = deps.storage
        self.challenges = challenges
        self.channels = channels
        self.waits = waits  # a device long-polling this node hears of a request at once

    # -- the integration's side: validate starts a request ---------------------------------

    def start(self, request: StartRequest) -> Decision:
        now = self.deps.clock.now()
        tenant, user, method = request.tenant, request.user, request.method
        settings = tenant.settings
        event = request.event
        with self.storage.transaction() as tx:
            device = tx.devices.by_id(method.device_id or "")
        if device is None:
            decision = Decision(
                Result.REJECT, Reason.METHOD_NOT_REGISTERED, methods=request.methods
            )
            self.challenges.audit_decision(tenant.id, event, decision)
            return decision
        audited = "device" in settings.audit.audit_fields
        event = replace(event, device=device.id if audited else None)
        number = app_push.new_number() if request.can_prompt else None
        nonce = app_push.new_nonce()
        message = settings.push.push_message.format(
            integration=event.integration or "an application",
            client_ip=event.client_ip or "an unknown address",
            user=user.name,
        )
        challenge_id = new_transaction_id()
        with self.storage.transaction(write=True) as tx:
            refused = self._fatigue(tx, tenant, user, now)
            challenge = Challenge(
                id=challenge_id,
                tenant_id=tenant.id,
                user_id=user.id,
                method_id=method.id,
                kind=app_push.KIND.kind,
                state=ChallengeState.PENDING,
                max_attempts=1,
                created_at=now,
                expires_at=now + settings.push.push_timeout,
                last_sent_at=now,
                interface=event.interface,
                integration=event.integration,
                client_ip=event.client_ip,
                device_id=device.id,
                number=number,
                nonce=nonce,
                message=message[:255],
            )
            refusal = admit(tx, request, event, refused, challenge, now)
            if refusal is not None:
                return refusal
            decision = Decision(
                Result.CHALLENGE,
                transaction_id=challenge_id,
                methods=request.methods,
                number=number,
                prompt=(
                    f"Open your authenticator app and enter {number}"
                    if number is not None
                    else "Approve the sign-in in your authenticator app"
                ),
            )
            tx.audit.add(tenant.id, decided(event, decision, f"pushed to {device.push_kind}"))
        if self.waits is not None:
            self.waits.notify(device_key(device.id))
        self._wake(device)
        return decision

    # -- the device's side ----------------------------------------------------------------

    def requests(self, device: Device) -> Sequence[PushRequest]:
        now = self.deps.clock.now()
        with self.storage.transaction() as tx:
            pending = tx.challenges.pending_for_device(device.id, now)
        return [
            PushRequest(
                transaction_id=c.id,
                integration=c.integration,
                client_ip=c.client_ip,
                created_at=c.created_at,
                expires_at=c.expires_at,
                message=c.message or "",
                nonce=c.nonce or "",
                number_required=c.number is not None,
            )
            for c in pending
        ]

    def answer(
        self,
        device: Device,
        transaction_id: str,
        decision: str,
        number: int | None,
        nonce: str,
        signature: str,
    ) -> Decision:
        if decision not in app_push.DECISIONS:
            raise InvalidInput("decision must be approve, deny or fraud", field="decision")
        now = self.deps.clock.now()
        parties = self.challenges.find(transaction_id)
        if parties is None or parties.challenge.device_id != device.id:
            raise TransactionNotFound(f"no request {transaction_id[:64]!r} for this device")
        challenge = parties.challenge
        signed = app_push.answer_string(challenge.id, decision, number, nonce)
        raw = app_push.b64decode(signature, "signature")
        genuine = app_push.verify(device.key_type, device.public_key, signed, raw)
        fresh = hmac.compare_digest(nonce.encode(), (challenge.nonce or "").encode())
        ledger = self.challenges
        # Each answer is one conditional update; the first to win decides, and every other
        # answer hears that outcome (see ChallengeService).
        if not (genuine and fresh):  # forged, replayed or crossed: it decides only a denial
            return ledger.refuse(parties, now, Reason.INVALID_SIGNATURE)
        if decision == "fraud":  # "this wasn't me": recorded even after the decision
            return ledger.fraud(parties, now, "on their authenticator")
        if decision == "deny":
            return ledger.refuse(parties, now, Reason.DENIED)
        if challenge.number is not None and not hmac.compare_digest(
            str(number).encode(), str(challenge.number).encode()
        ):  # no number, or another one: the user did not see this sign-in's page
            return ledger.refuse(parties, now, Reason.WRONG_NUMBER)
        return ledger.approve(parties, now, attempt=False)

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _fatigue(t: PushWork, tenant: Tenant, user: User, now: float) -> str | None:
        """Why a new request would be one too many, or None."""
        settings = tenant.settings
        if t.challenges.pending_count(user.id, _KIND, now) >= settings.push.push_max_pending:
            return f"{settings.push.push_max_pending} requests are already pending"
        denied, last = t.challenges.denials_since(user.id, _KIND, now - FATIGUE_WINDOW)
        paused = last is not None and now < last + settings.push.push_pause_seconds
        if denied >= settings.push.push_pause_after and paused:
            return f"paused after {denied} denied requests"
        limit = t.deliveries.reserve(
            tenant.id,
            user.id,
            "push",
            now,
            FATIGUE_WINDOW,
            settings.push.push_user_limit,
            None,  # a push costs nothing to send: no tenant-wide limit, only the user's
        )
        return None if limit is None else f"{limit} push limit reached"

    def _wake(self, device: Device) -> None:
        """Tell the device it has a request. Best effort: the pull channel always works."""
        if device.push_kind == "pull":
            return
        with self.storage.transaction() as tx:
            sealed = tx.devices.sealed_channel(device.id)
        channel = (
            json.loads(self.deps.secrets.open(sealed, device_context(device.id))) if sealed else {}
        )
        try:
            self.channels.notify(device.push_kind, channel, _WAKE)
        except ChannelGone:
            # The app was removed or its subscription expired: stop pushing to nowhere. The
            # device keeps pulling, and PUT /v1/devices/{id}/push sets a new channel.
            log.info("device %s: its %s channel is gone; now pull", device.id, device.push_kind)
            with self.storage.transaction(write=True) as tx:
                tx.devices.set_push(device.id, "pull", None)
        except GatewayError as exc:
            log.warning("push to device %s (%s) failed: %s", device.id, device.push_kind, exc)
