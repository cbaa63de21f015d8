"""The OpenAPI description is the contract: schemathesis generates requests from it (valid
and invalid ones) and sends them to the app in-process, on SQLite and on PostgreSQL. No
answer may be a 5xx, every status must be one the operation documents, and every body must
match its documented schema.

Bounded so it runs with the rest of the suite: a fixed number of examples per operation and
mode, generated the same way every run, no shrinking; about 2,100 requests and 20-25 s per
database on the reference machine.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from twostep.bootstrap import App
from twostep.domain.ports.users import NewUser
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

EXAMPLES = 20  # per operation and generation mode (valid, invalid)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = SchemathesisConfig.from_dict({"generation": {"deterministic": True}})
SETTINGS: dict[str, Any] = {
    "max_examples": EXAMPLES,
    "deadline": None,
    "derandomize": True,
    "database": None,
    "phases": [Phase.explicit, Phase.generate],  # no shrinking: the time stays bounded
    "suppress_health_check": list(HealthCheck),
}


def test_the_server_keeps_its_contract(
    app: App, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    # A user with a method, so generated requests reach past "not found" now and then.
    app.admin.create_user(OPERATOR, "default", NewUser(name="alice"))
    app.enroll.enroll_app_code(OPERATOR, "default", "alice")
    api = create_app(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api, config=CONFIG)
    failures: list[str] = []
    started = time.monotonic()
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = integration_key if operation.path.startswith("/v1/validate") else admin
        for mode in GenerationMode:
            try:
                sent += _fuzz(operation, mode, headers)
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    elapsed = time.monotonic() - started
    print(f"schemathesis: {sent} requests in {elapsed:.1f} s")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> int:
    """Send the operation's generated cases; the number sent."""
    sent = 0

    @settings(**SETTINGS)
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Case) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
    return sent
