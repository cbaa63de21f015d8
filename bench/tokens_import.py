"""Token import benchmark: a 100,000-row CSV and a 10,000-key password-encrypted PSKC.

Each import runs as the real command (`twostep tokens import`) in a fresh TWOSTEP_HOME on
SQLite; the figure is its wall time and the peak resident memory of that process. The
baseline, measured in the same run, is the same file only parsed and validated (no
storage), so the ratio says what storing costs. Bounded: a fixed number of files and
repeats, each command with a timeout. Loopback only: nothing here touches a network.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twostep.adapters.importers import TokenRecord, read_csv, read_pskc, write_pskc
from twostep.domain.entities import OtpParams, OtpType

PASSWORD = "correct horse battery staple"  # noqa: S105 - the benchmark's own test file
TIMEOUT = 300.0


def make_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("serial,secret,interval\n")
        for i in range(rows):
            out.write(f"C{i:07d},{base64.b32encode(secrets.token_bytes(20)).decode()},30\n")


def make_pskc(path: Path, keys: int, iterations: int) -> None:
    records = [
        TokenRecord(
            serial=f"P{i:07d}",
            seed=secrets.token_bytes(20),
            params=OtpParams(type=OtpType.HOTP if i % 2 else OtpType.TOTP),
            manufacturer="Acme",
            model="C200",
        )
        for i in range(keys)
    ]
    path.write_bytes(write_pskc(records, PASSWORD, iterations=iterations))


def run_import(file: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `twostep tokens import` in a fresh home."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TWOSTEP_HOME": home}
        cli = [sys.executable, "-m", "twostep.interfaces.cli.main"]
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out:
            child = subprocess.Popen(
                [*cli, "tokens", "import", str(file), *extra], env=env, stdout=out, stderr=out
            )
            deadline = started + TIMEOUT
            peak_kib = 0
            while (waited := os.wait4(child.pid, os.WNOHANG))[0] == 0:
                if time.perf_counter() > deadline:
                    child.kill()
                    raise SystemExit("import timed out")
                peak_kib = max(peak_kib, _high_water_kib(child.pid))
                time.sleep(0.01)
            elapsed = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(waited[1])
            out.seek(0)
            text = out.read().decode(errors="replace")
        if child.returncode != 0 or "imported" not in text:
            raise SystemExit(f"import failed: {text}")
        # VmHWM, polled: the child's ru_maxrss would start from this process's own peak.
        return elapsed, peak_kib / 1024


def _high_water_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def parse_only(file: Path, pskc: bool) -> float:
    started = time.perf_counter()
    data = file.read_bytes()
    records = read_pskc(data, password=PASSWORD) if pskc else read_csv(data)
    assert records
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--pskc-keys", type=int, default=10_000)
    parser.add_argument("--pbkdf2-iterations", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        csv_file, pskc_file = Path(work) / "tokens.csv", Path(work) / "tokens.pskc"
        make_csv(csv_file, args.csv_rows)
        make_pskc(pskc_file, args.pskc_keys, args.pbkdf2_iterations)
        password_file = Path(work) / "password"
        password_file.write_text(PASSWORD + "\n")
        cases = [
            (f"CSV, {args.csv_rows:,} rows", csv_file, [], False),
            (
                f"PSKC, {args.pskc_keys:,} keys, PBKDF2 x{args.pbkdf2_iterations:,} + AES-256-CBC",
                pskc_file,
                ["--password-file", str(password_file)],
                True,
            ),
        ]
        print(f"{'file':58} {'import s':>9} {'parse s':>8} {'ratio':>6} {'peak MiB':>9}")
        for name, file, extra, pskc in cases:
            imports, parses, peaks = [], [], []
            for _ in range(args.repeat):
                elapsed, peak = run_import(file, extra)
                imports.append(elapsed)
                peaks.append(peak)
                parses.append(parse_only(file, pskc))
            imp, par = statistics.median(imports), statistics.median(parses)
            print(f"{name:58} {imp:9.2f} {par:8.2f} {imp / par:6.1f} {max(peaks):9.1f}")


if __name__ == "__main__":
    main()
