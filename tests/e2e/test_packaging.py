"""The project builds a wheel that installs into a fresh virtual environment and serves.

The wheel is built from a clean copy of the sources (no stale ``build/``), installed with
exactly the locked runtime dependencies it declares (their versions and hashes from
requirements/lock.txt, no dev tools, no extras), and run from outside the checkout: the
installed ``twostep serve`` migrates a new database from the migrations in the wheel,
loads the RADIUS dictionary from it, and answers ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import venv
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"

pytestmark = pytest.mark.slow


def build_wheel(into: Path) -> Path:
    source = into / "source"
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    wheels = into / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        timeout=120,
    )
    (wheel,) = wheels.glob("twostep-*.whl")
    return wheel


def declared(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode()
    return [
        Requirement(line.split(":", 1)[1])
        for line in text.splitlines()
        if line.startswith("Requires-Dist:")
    ]


def runtime_closure(requirements: list[Requirement]) -> set[str]:
    """The distributions the wheel needs without extras, followed through the metadata of
    the packages this venv installed from the lock."""
    found: set[tuple[str, frozenset[str]]] = set()

    def visit(req: Requirement, extras: set[str]) -> None:
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras):
            return
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in found:
            return
        found.add(key)
        for sub in metadata.requires(req.name) or []:
            visit(Requirement(sub), {"", *req.extras})

    for req in requirements:
        visit(req, {""})
    return {name for name, _extras in found}


def locked_subset(names: set[str]) -> str:
    """The lock's entries (version and hashes) for ``names``; every name must be locked."""
    kept: list[str] = []
    seen: set[str] = set()
    keep = False
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        entry = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==", line)
        if entry:
            name = canonicalize_name(entry.group(1))
            keep = name in names
            seen.add(name) if keep else None
        elif not line.startswith(" "):
            keep = False
        if keep and not line.lstrip().startswith("#"):
            kept.append(line)
    assert names - seen == set(), f"not in requirements/lock.txt: {names - seen}"
    return "\n".join(kept) + "\n"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("packaging")
    wheel = build_wheel(work)
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
    assert "twostep/interfaces/radius/dictionary" in files
    assert "twostep/adapters/storage/migrations/script.py.mako" in files
    assert "twostep/adapters/storage/migrations/env.py" in files
    versions = sorted(
        p.name for p in (ROOT / "src/twostep/adapters/storage/migrations/versions").glob("0*.py")
    )
    assert {f"twostep/adapters/storage/migrations/versions/{v}" for v in versions} <= files

    target = work / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    requirements = work / "runtime.txt"
    requirements.write_text(locked_subset(runtime_closure(declared(wheel))))
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--require-hashes", "-r", str(requirements)], check=True, timeout=300)
    subprocess.run([*pip, "--no-deps", "--no-index", str(wheel)], check=True, timeout=120)
    subprocess.run([str(python), "-m", "pip", "check"], check=True, timeout=60)
    return target


def clean_env(home: Path, **more: str) -> dict[str, str]:
    """No variable of this checkout's venv or test run leaks in."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
    return {**keep, "TWOSTEP_HOME": str(home), **more}


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port, radius_port = free_port(), free_port()
    log = tmp_path / "serve.log"
    env = clean_env(tmp_path / "home", TWOSTEP_RADIUS="on", TWOSTEP_RADIUS_PORT=str(radius_port))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(installed / "bin" / "twostep"), "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_the_installed_package_is_the_wheel_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    found = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import twostep; print(twostep.__file__)"],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(found).is_relative_to(installed), found


def test_the_installed_server_migrates_and_serves(served: tuple[str, Path]) -> None:
    url, log = served
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    ready = httpx.get(f"{url}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert httpx.get(f"{url}/openapi.json", timeout=5).json()["info"]["title"]
    # The pages' templates, catalogs and static files are in the wheel.
    signin = httpx.get(f"{url}/admin/signin", headers={"Accept-Language": "ko"}, timeout=5)
    assert signin.status_code == 200 and "관리 포털 로그인" in signin.text
    assert httpx.get(f"{url}/static/site.css", timeout=5).status_code == 200
    text = log.read_text()
    assert "RADIUS listening on udp" in text
    assert "Traceback" not in text
