"""A recording HTTP server on loopback: it stands for an SMS API or Twilio's REST API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_twilio import Recorder, serving


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with serving() as rec:
        yield rec
