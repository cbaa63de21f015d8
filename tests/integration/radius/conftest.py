from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import builders
from tests.support.radius import SECRET, Running, running
from twostep.bootstrap import App
from twostep.domain.entities import RadiusMode
from twostep.services.admin import OPERATOR
from twostep.services.radius_clients import NewRadiusClient


def add_client(
    app: App,
    name: str = "vpn",
    network: str = "127.0.0.1",
    mode: RadiusMode = RadiusMode.SECOND_FACTOR,
    **options: object,
) -> None:
    app.radius_clients.create(
        OPERATOR,
        "default",
        NewRadiusClient(name=name, network=network, mode=mode, secret=SECRET, **options),  # type: ignore[arg-type]
    )


@pytest.fixture
def alice(app: App) -> builders.Enrolled:
    return builders.enrolled_user(app, "alice")


@pytest.fixture
def radius(app: App) -> Iterator[Running]:
    """A server whose one client, ``vpn``, is 127.0.0.1 in second-factor mode."""
    add_client(app)
    with running(app) as server:
        yield server
