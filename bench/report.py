"""Medians over repeated runs, ratios to the /health baseline, and the printed tables."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.loadgen import RunResult
from bench.server import ProcMemory

# Targets from the issues, checked at concurrency 16.
SQLITE_TARGET_RATE = 1_500.0
SQLITE_TARGET_P99_MS = 25.0
SQLITE_TARGET_PROBE_RATIO = 0.5  # issue 13: at least half the bare probe's accepted/s
POSTGRES_TARGET_RATE = 1_000.0
KINDS = ("health", "success", "failure")
PROBE_KINDS = tuple(f"probe-{kind}" for kind in KINDS)
MEMORY_TARGET_MIB = 150.0


def _median(values: Sequence[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else float("nan")


def _per_s(cpu: float, run: RunResult) -> float:
    return cpu / run.elapsed if run.elapsed > 0 else float("nan")


def _cpu_us(run: RunResult) -> float:
    """CPU microseconds the server (and its database) spent per expected answer."""
    return (run.server_cpu + run.db_cpu) / run.ok * 1e6 if run.ok else float("nan")


def summarize(backend: str, concurrency: int, runs: Sequence[RunResult]) -> dict[str, object]:
    """Medians for one backend and concurrency. ``runs`` holds every repeat of every kind;
    the ratio is taken per repeat (validate and /health measured back to back), then the
    median of those ratios is reported. Runs of the probe (``probe-*`` kinds, measured
    right after Twostep's in each repeat) add the probe's figures and ``*_probe_ratio``:
    Twostep's rate over the probe's, per repeat, then the median."""
    by_kind: dict[str, list[RunResult]] = {kind: [] for kind in KINDS + PROBE_KINDS}
    for run in runs:
        by_kind[run.kind].append(run)
    row: dict[str, object] = {"backend": backend, "concurrency": concurrency}
    for kind in ("success", "failure"):
        mine, probe = by_kind[kind], by_kind[f"probe-{kind}"]
        ratios = [r.rate / p.rate for r, p in zip(mine, probe, strict=False) if p.rate]
        row[f"{kind}_probe_ratio"] = _median(ratios)
        # The same comparison by CPU per answer: on a busy machine, throughput follows
        # whatever else runs, while the CPU each answer costs hardly does.
        costs = [_cpu_us(p) / _cpu_us(r) for r, p in zip(mine, probe, strict=False)]
        row[f"{kind}_probe_cpu_ratio"] = _median(costs)
    for kind, results in by_kind.items():
        health = by_kind["probe-health" if kind.startswith("probe-") else "health"]
        row[f"{kind}_rate"] = _median([r.rate for r in results])
        row[f"{kind}_p50_ms"] = _median([r.percentile(50) for r in results])
        row[f"{kind}_p99_ms"] = _median([r.percentile(99) for r in results])
        row[f"{kind}_errors"] = sum(r.errors for r in results)
        row[f"{kind}_runs"] = len(results)
        row[f"{kind}_server_cores"] = _median([_per_s(r.server_cpu, r) for r in results])
        row[f"{kind}_db_cores"] = _median([_per_s(r.db_cpu, r) for r in results])
        row[f"{kind}_other_cores"] = _median([_per_s(r.other_cpu, r) for r in results])
        row[f"{kind}_cpu_us"] = _median([_cpu_us(r) for r in results])
        if not kind.endswith("health"):
            ratios = [r.rate / h.rate for r, h in zip(results, health, strict=False) if h.rate]
            row[f"{kind}_ratio"] = _median(ratios)
        outcomes: dict[str, int] = {}
        for r in results:
            for label, n in r.outcomes.items():
                if label != "ok":
                    outcomes[label] = outcomes.get(label, 0) + n
        row[f"{kind}_bad_outcomes"] = outcomes
    return row


def _f(value: object, digits: int = 0) -> str:
    if not isinstance(value, float | int) or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def throughput_table(rows: Sequence[dict[str, object]]) -> str:
    header = (
        f"{'backend':<10} {'conc':>4} | {'health/s':>9} {'p50':>6} {'p99':>6} | "
        f"{'accept/s':>9} {'xhealth':>7} {'xprobe':>6} {'p50':>6} {'p99':>6} {'err':>4} | "
        f"{'reject/s':>9} {'xhealth':>7} {'p50':>6} {'p99':>6} {'err':>4} | "
        f"{'cores':>5} {'db':>4} {'other':>5}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['backend']!s:<10} {r['concurrency']!s:>4} | "
            f"{_f(r['health_rate']):>9} {_f(r['health_p50_ms'], 1):>6} "
            f"{_f(r['health_p99_ms'], 1):>6} | "
            f"{_f(r['success_rate']):>9} {_f(r['success_ratio'], 2):>7} "
            f"{_f(r['success_probe_ratio'], 2):>6} "
            f"{_f(r['success_p50_ms'], 1):>6} {_f(r['success_p99_ms'], 1):>6} "
            f"{r['success_errors']!s:>4} | "
            f"{_f(r['failure_rate']):>9} {_f(r['failure_ratio'], 2):>7} "
            f"{_f(r['failure_p50_ms'], 1):>6} {_f(r['failure_p99_ms'], 1):>6} "
            f"{r['failure_errors']!s:>4} | "
            f"{_f(r['success_server_cores'], 2):>5} {_f(r['success_db_cores'], 2):>4} "
            f"{_f(_worst_other(r), 2):>5}"
        )
    lines.append(
        "medians of the repeats; latencies in ms; xhealth = validations/s divided by "
        "GET /health/s on the same server in the same repeat; xprobe = accepted/s divided by "
        "the bare probe's (bench/probe.py) in the same repeat (see the probe table); "
        "err = answers that were not "
        "accept (resp. reject/invalid_code), summed over the repeats; cores = CPU the server's "
        "processes used during the accept runs; db = the PostgreSQL server's CPU then (SQLite "
        "runs inside the server's processes); other = the most CPU other processes on the "
        "machine used during any of the three runs (0 when the machine was quiet)"
    )
    return "\n".join(lines)


def _worst_other(row: dict[str, object], kinds: Sequence[str] = KINDS) -> float:
    values = [row[f"{k}_other_cores"] for k in kinds]
    return max((v for v in values if isinstance(v, float) and not math.isnan(v)), default=math.nan)


def probe_table(rows: Sequence[dict[str, object]]) -> str:
    """Twostep against the bare probe, for the rows that measured it."""
    header = (
        f"{'backend':<10} {'conc':>4} | {'Twostep accept/s':>16} {'p50':>6} {'p99':>6} | "
        f"{'probe accept/s':>14} {'p50':>6} {'p99':>6} {'err':>4} | {'ratio':>5} | "
        f"{'reject/s':>8} {'probe':>8} {'ratio':>5} | {'probe health/s':>14} | "
        f"{'us/acc':>6} {'probe':>5} {'ratio':>5} | {'cores':>5} {'other':>5}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        if not r.get("probe-success_runs"):
            continue
        lines.append(
            f"{r['backend']!s:<10} {r['concurrency']!s:>4} | "
            f"{_f(r['success_rate']):>16} {_f(r['success_p50_ms'], 1):>6} "
            f"{_f(r['success_p99_ms'], 1):>6} | "
            f"{_f(r['probe-success_rate']):>14} {_f(r['probe-success_p50_ms'], 1):>6} "
            f"{_f(r['probe-success_p99_ms'], 1):>6} {r['probe-success_errors']!s:>4} | "
            f"{_f(r['success_probe_ratio'], 2):>5} | "
            f"{_f(r['failure_rate']):>8} {_f(r['probe-failure_rate']):>8} "
            f"{_f(r['failure_probe_ratio'], 2):>5} | {_f(r['probe-health_rate']):>14} | "
            f"{_f(r['success_cpu_us']):>6} {_f(r['probe-success_cpu_us']):>5} "
            f"{_f(r['success_probe_cpu_ratio'], 2):>5} | "
            f"{_f(r['probe-success_server_cores'], 2):>5} "
            f"{_f(_worst_other(r, PROBE_KINDS), 2):>5}"
        )
    lines.append(
        "medians of the repeats; ratio = Twostep's validations/s divided by the probe's in the "
        "same repeat (then the median); us/acc = CPU microseconds the server spent per "
        "accepted validation, Twostep's and the probe's, and their ratio (probe / Twostep: "
        "the throughput ratio a quiet machine would show if both were CPU-bound); "
        "cores = CPU the probe's processes used during its "
        "accept runs; other = the most CPU other processes used during the probe's runs"
    )
    return "\n".join(lines)


def targets(rows: Sequence[dict[str, object]]) -> list[str]:
    verdicts: list[str] = []
    for r in rows:
        if r["concurrency"] != 16:
            continue
        rate = r["success_rate"]
        p99 = r["success_p99_ms"]
        assert isinstance(rate, float) and isinstance(p99, float)
        if r["backend"] == "sqlite":
            met = rate >= SQLITE_TARGET_RATE and p99 < SQLITE_TARGET_P99_MS
            verdicts.append(
                f"SQLite c16: {rate:,.0f} accept/s (target >= {SQLITE_TARGET_RATE:,.0f}), "
                f"p99 {p99:.1f} ms (target < {SQLITE_TARGET_P99_MS:.0f}): "
                + ("MET" if met else "NOT MET")
            )
            ratio = r.get("success_probe_ratio")
            if isinstance(ratio, float) and not math.isnan(ratio):
                met = ratio >= SQLITE_TARGET_PROBE_RATIO and p99 < SQLITE_TARGET_P99_MS
                verdicts.append(
                    f"SQLite c16 against the probe: {ratio:.2f} of its accept/s (target >= "
                    f"{SQLITE_TARGET_PROBE_RATIO}), p99 {p99:.1f} ms (target < "
                    f"{SQLITE_TARGET_P99_MS:.0f}): " + ("MET" if met else "NOT MET")
                )
        elif r["backend"] in ("postgres", "pg-fast"):
            met = rate >= POSTGRES_TARGET_RATE
            label = "default durability" if r["backend"] == "postgres" else "fsync=off"
            verdicts.append(
                f"PostgreSQL ({label}) c16: {rate:,.0f} accept/s "
                f"(target >= {POSTGRES_TARGET_RATE:,.0f}): " + ("MET" if met else "NOT MET")
            )
    return verdicts


def memory_table(label: str, procs: Sequence[ProcMemory]) -> str:
    lines = [
        f"{label}:",
        f"  {'pid':>7} {'role':<28} {'RSS MiB':>8} {'peak MiB':>9} {'PSS MiB':>8}",
    ]
    for p in procs:
        pss = "-" if p.pss_kib is None else f"{p.pss_kib / 1024:.1f}"
        lines.append(
            f"  {p.pid:>7} {p.role:<28} {p.rss_kib / 1024:>8.1f} {p.hwm_kib / 1024:>9.1f} {pss:>8}"
        )
    rss = sum(p.rss_kib for p in procs) / 1024
    pss_known = [p.pss_kib for p in procs if p.pss_kib is not None]
    pss_total = f"{sum(pss_known) / 1024:.1f}" if len(pss_known) == len(procs) else "-"
    lines.append(f"  {'':>7} {'total of the tree':<28} {rss:>8.1f} {'':>9} {pss_total:>8}")
    return "\n".join(lines)


def commit() -> str:
    """The project's commit (read-only git calls), marked when src/ has local changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            check=False,
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "diff", "--name-only", "HEAD", "--", "src"],
            check=False,
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' + local changes in src/' if dirty else ''}" if head else "unknown"


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "commit": commit(),
        "cpus": str(os.cpu_count()),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
