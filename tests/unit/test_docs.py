"""The docs name every stable code, every route and every environment variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

import twostep
from twostep.bootstrap import App
from twostep.domain import errors
from twostep.domain.results import Reason
from twostep.interfaces.http import errors as http_errors
from twostep.interfaces.http.app import create_app

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SRC = Path(twostep.__file__).resolve().parent

# Codes the HTTP layer answers without a domain error; the scan below must find them all.
HTTP_CODES = {
    "malformed_json",
    "invalid_request",
    "body_too_large",
    "not_found",
    "method_not_allowed",
    "unsupported_media_type",
    "http_error",
    "internal_error",
}


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _subclasses(root: type[errors.TwostepError]) -> list[type[errors.TwostepError]]:
    found = [root]
    for sub in root.__subclasses__():
        found += _subclasses(sub)
    return found


def _domain_codes() -> set[str]:
    return {kind.code for kind in _subclasses(errors.TwostepError)}


def _http_codes() -> set[str]:
    source = Path(http_errors.__file__).read_text(encoding="utf-8")
    literal = set(re.findall(r'error_body\(\s*"([a-z_]+)"', source))
    fallback = set(re.findall(r'_HTTP_CODES\.get\([^,]+,\s*"([a-z_]+)"\)', source))
    return literal | fallback | set(http_errors._HTTP_CODES.values())


def _section(text: str, heading: str) -> str:
    """The text under ``## heading`` up to the next ``## `` heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _first_column_codes(text: str) -> set[str]:
    """Codes written as `code` in the first column of a Markdown table."""
    return set(re.findall(r"^\|\s*`([a-z_]+)`\s*\|", text, flags=re.MULTILINE))


def _error_table() -> set[str]:
    return _first_column_codes(_section(_read("error-codes.md"), "Error codes"))


def _reason_table() -> set[str]:
    return _first_column_codes(_section(_read("error-codes.md"), "Validate reasons"))


def test_the_http_code_scan_finds_every_known_code() -> None:
    assert _http_codes() >= HTTP_CODES


@pytest.mark.parametrize("code", sorted(_domain_codes() | HTTP_CODES))
def test_every_error_code_is_in_the_error_table(code: str) -> None:
    assert code in _error_table(), f"`{code}` is not in the error table"


def test_every_scanned_http_code_is_documented() -> None:
    missing = _http_codes() - _error_table()
    assert not missing, f"undocumented HTTP codes: {sorted(missing)}"


@pytest.mark.parametrize("reason", [r.value for r in Reason])
def test_every_reason_is_in_the_reason_table(reason: str) -> None:
    assert reason in _reason_table(), f"`{reason}` is not in the reason table"


def test_every_route_is_in_the_integrator_guide(app: App) -> None:
    guide = _read("integrator-guide.md")
    api = create_app(app)
    # Routes added on the app itself, plus every API route (routers included) by its
    # OpenAPI path; then the schema itself.
    paths = {r.path for r in api.routes if isinstance(r, APIRoute)}
    paths |= set(api.openapi()["paths"])
    paths |= {"/openapi.json"}
    assert {"/v1/validate", "/v1/tenants/{tenant}/audit", "/health"} <= paths
    missing = sorted(p for p in paths if p not in guide)
    assert not missing, f"routes missing from docs/integrator-guide.md: {missing}"


def test_every_environment_variable_is_in_the_operator_guide() -> None:
    names = set(re.findall(r"TWOSTEP_[A-Z_]+", (SRC / "config.py").read_text(encoding="utf-8")))
    assert "TWOSTEP_HOME" in names
    guide = _read("operator-guide.md")
    missing = sorted(n for n in names if f"`{n}`" not in guide)
    assert not missing, f"variables missing from docs/operator-guide.md: {missing}"
