"""The hosted sign-in page and issue 16's skips: a one-time bypass sends the user straight
back accepted (reason bypass), once; a trusted network does not apply to the page, even for
an integration flagged to vouch for the addresses it sends to validate."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.unit.interfaces.web.test_hosted import Site, browser, returned, site, start
from twostep.bootstrap import App
from twostep.clients import signin
from twostep.services.admin import OPERATOR

__all__ = ["browser", "site"]  # the fixtures, shared with the hosted page's own tests


def _result(app: App, site: Site, html: str) -> signin.Result:
    query = parse_qs(urlsplit(returned(html)).query)
    return signin.verify_result(
        query["result"][0],
        key_id=site.key_id,
        secret=site.secret,
        state="s-1",
        now=app.deps.clock.now(),
    )


def test_a_bypass_goes_straight_back_accepted_once(
    app: App, browser: TestClient, site: Site
) -> None:
    app.bypasses.grant(OPERATOR, "default", "alice")
    done = start(browser, site.request(app))
    assert done.status_code == 200  # type: ignore[attr-defined]
    result = _result(app, site, done.text)  # type: ignore[attr-defined]
    assert result.accepted and result.reason == "bypass" and result.method is None
    again = start(browser, site.request(app, state="s-2"))
    assert again.headers["location"] == "/signin/verify"  # type: ignore[attr-defined]


def test_a_trusted_network_does_not_apply_to_the_page(
    app: App, browser: TestClient, site: Site
) -> None:
    app.admin.update_settings(
        OPERATOR,
        "default",
        {"trusted_networks_enabled": True, "trusted_networks": ["0.0.0.0/0", "::/0"]},
    )
    app.admin.set_trusted_client_addresses(OPERATOR, "default", "intranet", True)
    started = start(browser, site.request(app))
    assert started.headers["location"] == "/signin/verify"  # type: ignore[attr-defined]
