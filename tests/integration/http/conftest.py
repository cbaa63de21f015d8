from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from twostep.bootstrap import App
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin(app: App) -> dict[str, str]:
    key = app.admin.bootstrap_admin_key()
    assert key is not None
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def integration_key(app: App) -> dict[str, str]:
    _integration, key = app.admin.create_integration(OPERATOR, "default", "web")
    return {"Authorization": f"Bearer {key}"}
