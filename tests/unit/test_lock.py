"""The lock files agree with pyproject.toml: every dependency, extra and build requirement is
locked at a version its range admits, with hashes (so `make` installs it checked).

A failure here means pyproject.toml changed without the lock: run `make lock`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# One requirement: `name==version [; marker] \` and its `--hash=sha256:...` lines.
ENTRY = re.compile(r"^([\w.-]+)==(\S+)(?: ;[^\\\n]*)? \\\n((?:    --hash=.*\n)+)", re.M)
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
EXTRAS = ("postgres", "twilio", "webpush", "dev")


def _locked(name: str) -> dict[str, tuple[Version, int]]:
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    found = {
        canonicalize_name(m[1]): (Version(m[2]), len(HASH.findall(m[3])))
        for m in ENTRY.finditer(text)
    }
    pins = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    assert len(found) == len(pins), "every pinned line is name==version with hashes"
    return found


def _check(requirement: str, locked: dict[str, tuple[Version, int]]) -> None:
    wanted = Requirement(requirement)
    name = canonicalize_name(wanted.name)
    assert name in locked, f"{wanted.name} is not locked: run `make lock`"
    version, hashes = locked[name]
    assert wanted.specifier.contains(version, prereleases=True), (
        f"{wanted.name} is locked at {version}, outside {wanted.specifier}: run `make lock`"
    )
    assert hashes >= 1


@pytest.mark.parametrize("extra", [None, *EXTRAS])
def test_every_dependency_is_locked_within_its_range(extra: str | None) -> None:
    locked = _locked("lock.txt")
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    for requirement in project["dependencies"] if extra is None else extras[extra]:
        _check(requirement, locked)


def test_the_build_backend_is_locked_as_pyproject_names_it() -> None:
    locked = _locked("build.txt")
    for requirement in PYPROJECT["build-system"]["requires"]:
        _check(requirement, locked)
    assert {"pip", "setuptools", "uv"} <= set(locked)


def test_make_installs_every_extra() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^EXTRAS\s*:=(.*)$", makefile, re.M)
    assert line is not None
    assert set(line[1].split()) == set(EXTRAS) == set(PYPROJECT["project"]["optional-dependencies"])


def test_provider_libraries_are_extras_not_server_dependencies() -> None:
    core = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    assert not core & {"psycopg", "twilio", "pywebpush", "py-vapid", "defusedxml"}
