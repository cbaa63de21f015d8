"""The directories API keeps the OpenAPI contract under a schema-driven fuzzer, as the rest
of the API does (test_contract.py), over an in-memory directory: the general contract
test runs the real LDAP connector, which must not be sent to generated server names.
Paths name the tenant ``default`` and its directory ``corp``, so generated bodies reach the
service rather than "not found"."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode

from tests.integration.http.test_contract import CHECKS, CONFIG, SETTINGS
from tests.support.directories import FakeDirectory, entry
from twostep.bootstrap import App
from twostep.domain.admin_events import AdminEventQuery
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR
from twostep.services.directories import DirectoryAdmin
from twostep.services.directory_sync import DirectorySync

pytestmark = pytest.mark.usefixtures("backend")


def test_the_directories_api_keeps_its_contract(app: App, admin: dict[str, str]) -> None:
    ldap = FakeDirectory()
    ldap.put(entry("alice@example.com"), entry("bob", user_id=None, external_id="uuid-bob"))
    directories = DirectoryAdmin(app.deps, ldap)
    settings = {"urls": ["ldap://127.0.0.1"], "bind_dn": "cn=reader", "base_dn": "dc=example"}
    directories.add(OPERATOR, "default", "corp", settings)
    wired = dataclasses.replace(
        app, directories=directories, directory_sync=DirectorySync(app.deps, ldap)
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(wired), config=CONFIG)
    failures: list[str] = []
    started, sent = time.monotonic(), 0
    operations = [
        r.ok()
        for r in schema.get_all_operations()
        if r.ok().path.startswith("/v1/tenants/{tenant}/directories")
    ]
    # Deleting ``corp`` last: the operations before it find it.
    for operation in sorted(operations, key=lambda o: o.method.upper() == "DELETE"):
        for mode in GenerationMode:
            try:
                sent += _fuzz_known(operation, mode, admin)
            except Unsatisfiable:
                continue
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    print(f"schemathesis: {sent} requests in {time.monotonic() - started:.1f} s")
    assert sent > 0 and not failures, "\n\n".join(failures)
    # The generated requests reached the service: some changes were made and recorded.
    tenant = app.admin.get_tenant(OPERATOR, "default")
    with app.storage.transaction() as tx:
        made = tx.admin_events.query(AdminEventQuery(tenant_id=tenant.id, action="directory."))
    print(sorted({(e.action, e.result) for e in made}))
    assert {"directory.add", "directory.sync"} <= {e.action for e in made if e.result == "ok"}


def _fuzz_known(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> int:
    sent = 0

    @settings(**SETTINGS)
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Case) -> None:
        nonlocal sent
        sent += 1
        if case.path_parameters:
            known = {"tenant": "default", "name": "corp"}
            case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
    return sent
