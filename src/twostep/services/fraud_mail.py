"""Fraud reports emailed to a tenant's administrators (``fraud_notify_emails``), as MFA
Server's fraud notifications were: one email per address, through the tenant's email
gateways (failover in order; the outbox when it has none).

The emails go from a short-lived thread, so a slow mail server never holds up the call or
the device that reported the fraud; a failure is logged, not retried (the log line and the
audit event's ``fraud_reported`` stay the record). They carry what an administrator needs
to act (who, when, how, and whether the user is now locked), never a secret.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from twostep.domain.challenges import Parties
from twostep.domain.delivery import Channel, TextMessage
from twostep.services.delivery import Delivery, DeliveryFailed
from twostep.services.lockout import FOREVER

log = logging.getLogger("twostep.alerts")

Run = Callable[[Callable[[], None]], None]


def in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="fraud-mail", daemon=True).start()


class FraudMail:
    def __init__(self, delivery: Delivery, run: Run = in_thread) -> None:
        self.delivery = delivery
        self.run = run  # tests run the sending at once

    def send(
        self, parties: Parties, where: str, after: str, locked_until: float | None, now: float
    ) -> None:
        """Email the tenant's fraud_notify_emails of one report. ``after``: "" or what the
        report came after ("after approval"); ``locked_until``: the block, None if none."""
        tenant, user, challenge = parties.tenant, parties.user, parties.challenge
        settings = tenant.settings
        addresses = settings.audit.fraud_notify_emails
        if not addresses:
            return
        at = _when(now)
        if locked_until is None:
            block = "The user is not locked (fraud_blocks_user is off)."
        elif locked_until >= FOREVER:
            block = "The user is locked until an administrator unlocks them."
        else:
            block = (
                f"The user is locked until {_when(locked_until)}, or until an administrator "
                "unlocks them."
            )
        client = challenge.client_ip if "client_ip" in settings.audit.audit_fields else None
        lines = [
            f"User {user.name} of tenant {tenant.name} reported a sign-in as fraud {where}"
            f"{' ' + after if after else ''}, at {at}.",
            "",
            f"Method: {challenge.kind.value}",
            f"Integration: {challenge.integration or '-'}",
            f"Client address: {client or '-'}",
            f"Transaction: {challenge.id}",
            "",
            block,
            "The audit log lists this sign-in with the reason fraud_reported.",
        ]
        subject = f"{settings.issuer}: fraud reported by {user.name} ({tenant.name})"
        messages = [
            TextMessage(
                to=address,
                body="\n".join(lines),
                channel=Channel.EMAIL,
                sender=settings.email.email_sender or None,
                subject=subject,
                reference=challenge.id,
            )
            for address in addresses
        ]
        self.run(lambda: self._deliver(tenant.id, messages))

    def _deliver(self, tenant_id: int, messages: Sequence[TextMessage]) -> None:
        for message in messages:
            try:
                self.delivery.send_text(tenant_id, message)
            except DeliveryFailed as exc:
                log.warning("fraud notification email failed: %s", exc.detail)
            except Exception:  # a thread's end: never lose the others to one error
                log.exception("fraud notification email failed")


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
