"""What `twostep directories` prints: a sync's running count and summary, a directory."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from twostep.services.directories import DirectoryView
    from twostep.services.directory_progress import Change, SyncCounts
    from twostep.services.directory_sync import SyncReport

SHOWN = 20  # names a dry run prints per kind of change (--json: all it lists)


class Counter:
    """One line on the terminal, rewritten as the sync goes (at most ten times a second):
    a bar when the number of entries is known from the last full sync, the counts always."""

    WIDTH = 24

    def __init__(self, enabled: bool, expected: int | None = None) -> None:
        self.enabled = enabled
        self.expected = expected if expected and expected > 0 else None
        self.shown = 0.0
        self.written = False

    def line(self, counts: SyncCounts) -> str:
        line = (
            f"read {counts.seen:,}  created {counts.created:,}  changed {counts.changed:,}  "
            f"disabled {counts.disabled:,}  enabled {counts.enabled:,}"
        )
        if self.expected is None:
            return line
        share = min(counts.seen / self.expected, 1.0)
        filled = round(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"[{bar}] {share:4.0%} of ~{self.expected:,}  {line}"

    def show(self, counts: SyncCounts) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown < 0.1:
            return
        self.shown = now
        self.written = True
        click.echo(f"\r{self.line(counts)}", nl=False, err=True)

    def done(self) -> None:
        if self.written:
            click.echo("", err=True)


def expected_entries(view: DirectoryView, full: bool, now: float) -> int | None:
    """How many entries this sync will read, when it will be a full one (asked for, a day
    since the last, or no cursor yet) and the last sync was a full one that finished: the
    bar's 100 %. An incremental sync reads only what changed: no bar."""
    from twostep.services.directory_progress import wants_full

    record = view.sync
    if record is None or not record.full or record.state != "done":
        return None
    if full or wants_full(record, now) or view.directory.sync_cursor is None:
        return record.counts.seen
    return None


def summary(report: SyncReport) -> str:
    what = "dry run (nothing changed)" if report.dry_run else "synced"
    kind = "full" if report.full else "incremental"
    seconds = report.finished_at - report.started_at
    counts = report.counts.as_dict()
    lines = [f"directory {report.directory}: {kind} {what} in {seconds:.1f} s"]
    lines.append("  " + "  ".join(f"{k} {v:,}" for k, v in counts.items() if v or k == "seen"))
    if report.message:
        lines.append(f"  note: {report.message}")
    for problem in report.problems[:SHOWN]:
        lines.append(f"  {problem.reason}: {problem.user or problem.dn}: {problem.detail}")
    if report.dry_run:
        for title in ("created", "changed", "disabled", "enabled"):
            listed: list[Change] = getattr(report.lists, title)
            total = counts[title]
            if total:
                lines.append(f"  would be {title} ({total:,}):")
                for change in listed[:SHOWN]:
                    fields = f" ({', '.join(change.fields)})" if change.fields else ""
                    lines.append(f"    {change.user}{fields}")
                if total > SHOWN:
                    lines.append(f"    ... and {total - SHOWN:,} more (--json lists up to 1,000)")
    return "\n".join(lines)


def report_json(report: SyncReport) -> dict[str, Any]:
    data: dict[str, Any] = {
        "directory": report.directory,
        "full": report.full,
        "dry_run": report.dry_run,
        "counts": report.counts.as_dict(),
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "message": report.message,
        "problems": [asdict(p) for p in report.problems],
    }
    if report.dry_run:
        for title in ("created", "changed", "disabled", "enabled"):
            data[title] = [asdict(c) for c in getattr(report.lists, title)]
    return data


def described(view: DirectoryView) -> str:
    directory = view.directory
    settings = directory.settings.model_dump(mode="json", exclude={"bind_password"})
    lines = [f"directory {directory.name} (id {directory.id}, position {directory.position})"]
    for key, value in settings.items():
        lines.append(f"  {key}: {_setting(key, value)}")
    lines.append(f"  bind_password: {'set' if view.bind_password_set else 'not set'}")
    record = view.sync
    if record is None:
        lines.append("  last sync: never")
        return "\n".join(lines)
    kind = "full" if record.full else "incremental"
    lines.append(f"  last sync: {view.sync_state} ({kind})")
    counts = "  ".join(f"{k} {v:,}" for k, v in record.counts.as_dict().items() if v)
    lines.append(f"    {counts or 'nothing read'}")
    if record.error:
        lines.append(f"    error: [{record.error}] {record.message}")
    elif record.message:
        lines.append(f"    note: {record.message}")
    for problem in record.problems[:SHOWN]:
        lines.append(f"    {problem.reason}: {problem.user or problem.dn}: {problem.detail}")
    return "\n".join(lines)


def _setting(key: str, value: Any) -> str:
    if key == "attributes":
        return ", ".join(
            f"{k}={v if isinstance(v, str) else ','.join(v)}" for k, v in value.items() if v
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)
