"""Scheduled directory syncs: one thread in one process per node (``twostep serve``) wakes
up every little while and syncs the directories that are due. Every node may run one:
each sync takes the directory's lease and checks under it that the sync is still due, so
a directory is synced by one node at a time, once per interval."""

from __future__ import annotations

import logging
import threading

from twostep.domain.errors import TwostepError
from twostep.services.directory_sync import DirectorySync, SyncReport, SyncStopped

log = logging.getLogger("twostep.directories")

EVERY = 30.0  # seconds between looks at what is due
FIRST = 5.0  # after the server starts: its own start comes first


class DirectoryScheduler:
    def __init__(self, sync: DirectorySync, *, every: float = EVERY, first: float = FIRST):
        self.sync = sync
        self.every = every
        self.first = first
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> list[SyncReport]:
        """One round: every due directory synced (by this node, or by another that holds
        its lease); a directory that fails is logged, and tried again in a later round."""
        done: list[SyncReport] = []
        for directory_id in self.sync.due_ids():
            if self._stop.is_set():
                break
            try:
                report = self.sync.scheduled(directory_id, stopping=self._stop.is_set)
            except SyncStopped:
                break
            except TwostepError as exc:
                log.warning("scheduled sync of %s failed: [%s] %s", directory_id, exc.code, exc)
                continue
            except Exception:  # the next round tries again; the thread must not die
                log.exception("scheduled sync of %s failed", directory_id)
                continue
            if report is not None:
                log.info("directory %s synced: %s", report.directory, report.counts.as_dict())
                done.append(report)
        return done

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name="twostep-directory-sync", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop at the next checkpoint of a running sync (between batches) and wait for
        the thread, within ``timeout``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        wait = self.first
        while not self._stop.wait(wait):  # a bounded sleep, cut short by stop()
            try:
                self.run_due()
            except Exception:  # listing the directories failed (the database is away)
                log.exception("scheduled directory syncs failed")
            wait = self.every
