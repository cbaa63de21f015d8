"""``twostep audit rollup``: run the usage rollup job by hand, or rebuild its counts."""

from __future__ import annotations

import click

from twostep.interfaces.cli.common import reports_errors, wired


@click.command(
    "rollup",
    help="Bring the usage rollups (the dashboard's and reports' counts of audit events) up "
    "to date now, as the server does every TWOSTEP_ROLLUP_INTERVAL seconds. Safe while "
    "servers run: each batch of events is counted once.",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Recount every rollup from the raw audit events, in one transaction (after a "
    "restore, or to check them); reads the whole audit log.",
)
@click.option(
    "--max-rounds",
    type=click.IntRange(1, 1_000_000),
    default=10_000,
    show_default=True,
    help="At most this many rounds of 5,000 events.",
)
@reports_errors
def rollup(rebuild: bool, max_rounds: int) -> None:
    app = wired()
    try:
        if rebuild:
            state = app.rollups.rebuild()
            click.echo(f"rollups rebuilt up to audit event {state.last_seq}")
            return
        report = app.rollups.run(max_rounds=max_rounds)
        click.echo(
            f"{report.counted} event(s) rolled up in {report.rounds} round(s)"
            + (f", {report.late} late one(s)" if report.late else "")
            + f"; position {report.last_seq}"
            + ("" if report.caught_up else " (more to do: run it again)")
        )
    finally:
        app.close()
