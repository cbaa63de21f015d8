"""A load balancer's probes stay out of the access log while they pass."""

from __future__ import annotations

import logging

from twostep.interfaces.http.routers.health import QuietProbes


def _access(path: str, status: int) -> logging.LogRecord:
    """A line as uvicorn's access logger makes it."""
    args = ("127.0.0.1:50000", "GET", path, "1.1", status)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None
    )


def test_passing_probes_are_quiet_and_failing_ones_and_the_rest_are_logged() -> None:
    quiet = QuietProbes()
    assert not quiet.filter(_access("/readyz", 200))
    assert not quiet.filter(_access("/healthz", 200))
    assert not quiet.filter(_access("/health", 200))
    assert quiet.filter(_access("/readyz", 503))
    assert quiet.filter(_access("/v1/validate", 200))
    assert quiet.filter(
        logging.LogRecord("uvicorn.access", logging.INFO, "", 0, "other", None, None)
    )
