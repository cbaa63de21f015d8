"""``watch``: long-poll for sign-in requests, show each, and answer it as the user says
(or as the command line said beforehand, for scripts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import click

from twostep.authenticator.client import MAX_WAIT, DeviceClient
from twostep.authenticator.errors import (
    AccountNotActivated,
    DeviceApiError,
    ServerUnreachable,
)
from twostep.authenticator.keystore import Account
from twostep.authenticator.model import AnswerResult, Decision, SignInRequest

MIN_POLL_SECONDS = 1.0  # never ask again sooner, whatever the server does
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Plan:
    """How to answer: a decision fixed in advance, or ``None`` to ask for each request."""

    decision: Decision | None = None
    number: int | None = None
    once: bool = False
    timeout: float | None = None  # seconds in all; None: until interrupted


@dataclass
class Watcher:
    client: DeviceClient
    account: Account
    plan: Plan
    now: Callable[[], float] = time.time  # for showing times
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def run(self) -> int:
        """Watch until ``--once`` is done or ``--timeout`` runs out; the exit status is 1
        when an answer was refused or an approval not accepted, or ``--once`` saw no
        request in time."""
        deadline = None if self.plan.timeout is None else self.monotonic() + self.plan.timeout
        seen: set[str] = set()
        status, failures = 0, 0
        while True:
            remaining = None if deadline is None else deadline - self.monotonic()
            if remaining is not None and remaining <= 0:
                if self.plan.once:
                    click.echo(f"No sign-in request within {self.plan.timeout:g} s.", err=True)
                    return 1
                return status
            started = self.monotonic()
            try:
                pending = self.client.requests(wait=MAX_WAIT if remaining is None else remaining)
                failures = 0
            except (ServerUnreachable, DeviceApiError) as exc:
                if not _transient(exc):
                    raise
                failures += 1
                delay = min(2.0**failures, MAX_BACKOFF_SECONDS)
                click.echo(f"warning: {exc}; retrying in {delay:g} s", err=True)
                self.sleep(delay if remaining is None else min(delay, remaining))
                continue
            seen.intersection_update(r.transaction_id for r in pending)  # forget finished ones
            fresh = [r for r in pending if r.transaction_id not in seen]
            if not fresh:
                self._pause(started, remaining)
                continue
            for request in fresh:
                seen.add(request.transaction_id)
                outcome = self.handle(request)
                if outcome is None:  # not delivered: show it again on the next poll
                    seen.discard(request.transaction_id)
                    continue
                status = status or (0 if outcome else 1)
                if self.plan.once:
                    return status

    def handle(self, request: SignInRequest) -> bool | None:
        """Show and answer one request. True: done as meant; False: the server refused
        the answer or did not accept an approval; None: the answer did not reach it."""
        self.show(request)
        decision, number = self.plan.decision, self.plan.number
        if decision is None:
            decision, number = ask(request.number_required)
            if decision is None:
                click.echo("Skipped: the request stays pending.")
                return True
        try:
            result = self.client.answer(request, decision, number)
        except AccountNotActivated:
            raise
        except (ServerUnreachable, DeviceApiError) as exc:
            if not _transient(exc):  # e.g. the request was decided or withdrawn meanwhile
                click.echo(f"The server refused the answer: {exc}", err=True)
                return False
            click.echo(f"warning: the answer was not delivered: {exc}", err=True)
            return None
        report(decision, result)
        return result.accepted or decision is not Decision.APPROVE

    def show(self, request: SignInRequest) -> None:
        account = self.account
        click.echo("")
        click.echo(f"Sign-in request for {account.label} ({account.issuer or account.server})")
        click.echo(f"  integration: {request.integration or '-'}")
        click.echo(f"  client IP:   {request.client_ip or '-'}")
        if request.created_at is not None:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(request.created_at))
            click.echo(f"  time:        {when}{self._expiry(request)}")
        click.echo(f"  message:     {request.message or '-'}")
        click.echo(f"  transaction: {request.transaction_id}")

    def _expiry(self, request: SignInRequest) -> str:
        if request.expires_at is None:
            return ""
        left = int(request.expires_at - self.now())
        return f" (expires in {left} s)" if left > 0 else " (expired)"

    def _pause(self, started: float, remaining: float | None) -> None:
        """Only known requests, or a server that did not hold the poll: do not spin."""
        idle = MIN_POLL_SECONDS - (self.monotonic() - started)
        if remaining is not None:
            idle = min(idle, remaining)
        if idle > 0:
            self.sleep(idle)


def _transient(exc: Exception) -> bool:
    if isinstance(exc, ServerUnreachable):
        return True
    return isinstance(exc, DeviceApiError) and (exc.status >= 500 or exc.status == 429)


CHOICES = {"d": Decision.DENY, "deny": Decision.DENY, "f": Decision.FRAUD, "fraud": Decision.FRAUD}


def ask(number_required: bool = True) -> tuple[Decision | None, int | None]:
    """The user's answer: the number to approve (or a to approve when the sign-in shows
    no number), d(eny), f(raud) or s(kip)."""
    approve = "Type the number shown on the sign-in page" if number_required else "Type a"
    while True:
        text = click.prompt(
            f"{approve} to approve, or d to deny, f if this wasn't you, s to skip",
            prompt_suffix="\n> ",
        ).strip()
        lowered = text.lower()
        if number_required and text.isdigit() and text.isascii():
            return Decision.APPROVE, int(text)
        if not number_required and lowered in ("a", "approve"):
            return Decision.APPROVE, None
        if lowered in ("s", "skip"):
            return None, None
        if lowered in CHOICES:
            decision = CHOICES[lowered]
            if decision is Decision.DENY or click.confirm(
                "Report this sign-in as fraud? It is denied and your administrator is alerted"
            ):
                return decision, None
            continue
        click.echo("Please type the number, d, f or s.")


def report(decision: Decision, result: AnswerResult) -> None:
    outcome = result.result + (f" ({result.reason})" if result.reason else "")
    if decision is Decision.APPROVE:
        verdict = "Approved." if result.accepted else "The approval was not accepted."
    elif decision is Decision.DENY:
        verdict = "Denied."
    else:
        verdict = "Reported as fraud: the sign-in is denied and your administrator alerted."
    click.echo(f"{verdict} Server result: {outcome}")
