"""Every `twostep` command that changes something records it: its service writes the
admin event, and its ``admin_change`` decorator records a refusal under the same action."""

from __future__ import annotations

import click

from twostep.domain.admin_events import ACTIONS
from twostep.interfaces.cli.common import ACTIONS as COMMAND_ACTIONS
from twostep.interfaces.cli.main import cli

# Commands that change no admin state: reads, the server, the schema, and the outbox's
# stand-in for a user's phone.
NOT_CHANGES = {("audit",), ("serve",), ("db", "upgrade"), ("outbox", "reply"), ("outbox", "press")}
# A statement is a read; an activation is an HTTP call to a server, which records it.
NOT_CHANGES |= {("billing", "statement"), ("integrations", "activate")}
# The usage rollups are counts derived from the audit log, rebuilt from it at will.
NOT_CHANGES |= {("audit", "rollup")}
# Reports and a user's remembered browsers are reads under other words.
NOT_CHANGES |= {("reports", "usage"), ("reports", "deliveries"), ("users", "remembered-devices")}
READ_WORDS = {"list", "show"}


def commands(
    group: click.Group = cli, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], click.Command]:
    found: dict[tuple[str, ...], click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= commands(command, (*prefix, name))
        else:
            found[(*prefix, name)] = command
    return found


def test_every_command_that_changes_something_records_its_action() -> None:
    unrecorded = [
        " ".join(path)
        for path, command in sorted(commands().items())
        if path not in NOT_CHANGES
        and path[-1] not in READ_WORDS
        and command.callback not in COMMAND_ACTIONS
    ]
    assert unrecorded == []


def test_every_command_action_is_a_documented_action() -> None:
    recorded = {a for path, c in commands().items() for a in COMMAND_ACTIONS.get(c.callback, ())}
    assert recorded - set(ACTIONS) == set()
    assert {"user.create", "password.set", "password.clear", "secret_key.rotate"} <= recorded


def test_reads_record_nothing() -> None:
    reads = [p for p, c in commands().items() if p[-1] in READ_WORDS or p in NOT_CHANGES]
    assert ("admin-events", "list") in reads
    assert [p for p in reads if commands()[p].callback in COMMAND_ACTIONS] == []
