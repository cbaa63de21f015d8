"""The Prometheus metrics: every one Twostep exports is defined here (docs/operator-guide.md
lists them, contrib/grafana/twostep.json graphs them).

Under ``twostep serve`` the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory
before it forks, so each worker writes its values to files there and a scrape served by any
worker adds them up (``MultiProcessCollector``). This module must therefore be imported
after that variable is set: prometheus_client picks its storage when it is first imported,
so nothing imports this module at the top level of a module that ``serve`` loads before
forking. Without the variable (tests, one process) the values live in this object's own
registry. Label values are always one of a few known words, never a name or an address.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.pool import Pool, QueuePool

from twostep.adapters.storage.tables import challenges
from twostep.adapters.usage_metrics import UsageCollector
from twostep.domain.audit import AuditEvent
from twostep.domain.challenges import ChallengeState
from twostep.domain.kinds import MethodKind
from twostep.domain.results import Reason, Result

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

RESULTS = frozenset(r.value for r in Result)
REASONS = frozenset(r.value for r in Reason)
METHODS = frozenset(k.value for k in MethodKind) | {"app_password"}
INTERFACES = frozenset({"http", "radius", "web", "cli"})
GATEWAY_KINDS = frozenset({"outbox", "http", "smtp", "twilio"})
CHANNELS = frozenset({"sms", "email", "voice"})
CHALLENGE_KINDS = frozenset({"app_push", "sms", "sms_reply", "voice", "email"})
LOCK_CAUSES = frozenset({"failures", "fraud"})
ROUTES = frozenset({"validate", "challenge_answer", "challenge_wait", "challenge_resend"})
RADIUS_DROPS = frozenset(
    {
        "unknown_client",
        "malformed",
        "unsupported_code",
        "bad_authenticator",
        "no_authenticator",
        "proxy_state",
        "in_progress",
        "busy",
        "draining",
    }
)
RADIUS_CODES = {2: "accept", 3: "reject", 11: "challenge"}
POOL_SAMPLE_SECONDS = 1.0

# Seconds: sign-ins answer in milliseconds; a long-poll or a RADIUS push wait in up to minutes.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def _bounded(value: str | None, known: frozenset[str]) -> str:
    if value is None or value == "":
        return "none"
    return value if value in known else "other"


class PrometheusMetrics:
    """The ``Metrics`` port (domain/ports/metrics.py) and everything else this process
    counts: HTTP and RADIUS latencies, RADIUS packets, the database pool."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None and values.ValueClass is values.MutexValue:
            raise RuntimeError(
                f"prometheus_client was imported before {MULTIPROC_ENV} was set: "
                "the workers' metrics would not add up"
            )
        # Multiprocess: the values go to files, the registry is built per scrape.
        own = None if multiprocess_dir is not None else CollectorRegistry(auto_describe=True)
        self._own = own
        self._extra: list[Collector] = []
        self._validations: dict[tuple[str, str | None, str | None, str], Counter] = {}
        self._routes: dict[str, Histogram] = {}
        self._pool: Pool | None = None
        self._kept: Callable[[], int] | None = None
        self._sampled = -POOL_SAMPLE_SECONDS
        self.validations = Counter(
            "twostep_validations",
            "Verification attempts by result, reason, method kind and interface (one per "
            "audit event)",
            ["result", "reason", "method", "interface"],
            registry=own,
        )
        self.lockouts = Counter(
            "twostep_lockouts", "Users locked, by cause", ["cause"], registry=own
        )
        self.fraud_reports = Counter(
            "twostep_fraud_reports", 'Fraud reports recorded ("this wasn\'t me")', registry=own
        )
        self.deliveries = Counter(
            "twostep_deliveries",
            "Texts, emails and calls handed to a gateway, by gateway kind and channel",
            ["gateway", "channel"],
            registry=own,
        )
        self.delivery_failures = Counter(
            "twostep_delivery_failures",
            "Texts, emails and calls a gateway refused or failed to take, by gateway kind "
            "and channel (the next gateway is tried)",
            ["gateway", "channel"],
            registry=own,
        )
        self.http_seconds = Histogram(
            "twostep_http_request_duration_seconds",
            "Time to answer the validate API, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.radius_seconds = Histogram(
            "twostep_radius_request_duration_seconds",
            "Time from an Access-Request's arrival to its reply",
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.radius_received = Counter(
            "twostep_radius_packets_received", "RADIUS datagrams received", registry=own
        )
        self.radius_dropped = Counter(
            "twostep_radius_packets_dropped",
            "RADIUS datagrams dropped without a reply, by cause",
            ["cause"],
            registry=own,
        )
        self.radius_answered = Counter(
            "twostep_radius_packets_answered",
            "RADIUS replies sent, by code",
            ["code"],
            registry=own,
        )
        self.pool_checked_out = Gauge(
            "twostep_db_pool_checked_out",
            "Database connections in use, per serving process",
            multiprocess_mode="liveall",
            registry=own,
        )
        self.pool_size = Gauge(
            "twostep_db_pool_size",
            "Database connections pooled (open), per serving process",
            multiprocess_mode="liveall",
            registry=own,
        )

    # -- the Metrics port ---------------------------------------------------------------

    def audited(self, event: AuditEvent) -> None:
        key = (event.result, event.reason, event.method, event.interface)
        child = self._validations.get(key)
        if child is None:  # once per combination: the labels' lookup costs more than inc()
            child = self._validations[key] = self.validations.labels(
                _bounded(event.result, RESULTS),
                _bounded(event.reason, REASONS),
                _bounded(event.method, METHODS),
                _bounded(event.interface, INTERFACES),
            )
        child.inc()
        if event.reason == Reason.FRAUD_REPORTED:
            self.fraud_reports.inc()

    def locked(self, cause: str) -> None:
        self.lockouts.labels(_bounded(cause, LOCK_CAUSES)).inc()

    def delivered(self, gateway_kind: str, channel: str, ok: bool) -> None:
        counter = self.deliveries if ok else self.delivery_failures
        counter.labels(_bounded(gateway_kind, GATEWAY_KINDS), _bounded(channel, CHANNELS)).inc()

    # -- the interfaces -----------------------------------------------------------------

    def http_request(self, route: str, seconds: float) -> None:
        child = self._routes.get(route)
        if child is None:
            child = self._routes[route] = self.http_seconds.labels(_bounded(route, ROUTES))
        child.observe(seconds)
        self._sample_pool()

    def radius_packet(self) -> None:
        self.radius_received.inc()

    def radius_drop(self, cause: str) -> None:
        self.radius_dropped.labels(_bounded(cause, RADIUS_DROPS)).inc()

    def radius_reply(self, reply: bytes, started: float | None) -> None:
        self.radius_answered.labels(RADIUS_CODES.get(reply[0], "other") if reply else "other").inc()
        if started is not None:
            self.radius_seconds.observe(time.perf_counter() - started)
        self._sample_pool()

    # -- the database -------------------------------------------------------------------

    def watch_pool(self, engine: Engine, kept: Callable[[], int] | None = None) -> None:
        """Report ``engine``'s pool: sampled at most once a second, as requests end (a
        gauge moved at every checkout and checkin cost 2 % of a validation). ``kept``: how
        many checked-out connections threads keep idle between transactions (SQLite's,
        storage.py), not counted as in use."""
        self._pool = engine.pool
        self._kept = kept

    def _sample_pool(self) -> None:
        now = time.monotonic()
        if self._pool is None or now - self._sampled < POOL_SAMPLE_SECONDS:
            return
        self._sampled = now
        pool = self._pool
        if isinstance(pool, QueuePool):
            out = pool.checkedout()
            self.pool_checked_out.set(out - (self._kept() if self._kept is not None else 0))
            self.pool_size.set(out + pool.checkedin())

    def count_pending(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """Read the pending challenges (any node's) from the database at each scrape."""
        collector = _PendingChallenges(engine, clock)
        self._extra.append(collector)
        if self._own is not None:
            self._own.register(collector)

    def count_usage(self, engine: Engine) -> None:
        """The usage rollups' totals as counters, read at most every 30 s at a scrape."""
        collector = UsageCollector(engine)
        self._extra.append(collector)
        if self._own is not None:
            self._own.register(collector)

    # -- the scrape ---------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """The exposition text of every process's metrics, and its content type. Blocking
        (a database read, files): call it in a thread."""
        registry = self._own
        if registry is None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
            for collector in self._extra:
                registry.register(collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _PendingChallenges(Collector):
    def __init__(self, engine: Engine, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterable[Any]:
        c = challenges.c
        family = GaugeMetricFamily(
            "twostep_pending_challenges",
            "Challenges waiting for an answer (all nodes: read from the database), by method",
            labels=["method"],
        )
        query = (
            select(c.kind, func.count())
            .where(c.state == ChallengeState.PENDING.value, c.expires_at > self.clock())
            .group_by(c.kind)
        )
        counts = dict.fromkeys(sorted(CHALLENGE_KINDS), 0)
        with self.engine.connect() as conn:
            for kind, count in conn.execute(query):
                counts[_bounded(kind, METHODS)] = counts.get(_bounded(kind, METHODS), 0) + count
        for kind, count in counts.items():
            family.add_metric([kind], count)
        yield family


def multiprocess_dir() -> str | None:
    """The directory ``serve`` set up for the workers' values, if any."""
    return os.environ.get(MULTIPROC_ENV) or None
