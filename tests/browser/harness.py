"""The browser harness: a real ``twostep serve`` on loopback, Debian's Chromium driven by
Playwright (no browser download), axe-core on every page, and QR codes read with zbarimg.

* ``Site`` (the ``site`` fixture): the server's URL and home, an admin API client, and
  ``new_admin(role)``: a user with a password and a confirmed authenticator app (its
  base32 secret, for oathtool), granted ``role``.
* ``check_accessibility(page)``: axe-core on the current page; fails on any serious or
  critical violation, naming each rule and element.
* ``read_qr(image_png, tmp)``: the text of the QR code in a PNG (a screenshot of the page
  or of an ``<img>``: ``locator.screenshot()``), read by zbarimg.
* ``totp(secret, at=None)``: the code of an authenticator app, by oathtool, not our code.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page

from tests.conftest import missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
SERIOUS = ("serious", "critical")


def tool(name: str, package: str) -> str:
    """The program's path: a missing one skips here and fails in CI."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} (Debian package {package})")
    assert path is not None
    return path


def chromium() -> str:
    if not Path(CHROMIUM).exists():
        missing("Chromium at /usr/bin/chromium (Debian package chromium)")
    return CHROMIUM


def totp(secret: str, at: float | None = None) -> str:
    """oathtool's code for ``secret`` (base32) now, or at the epoch second ``at``."""
    args = [tool("oathtool", "oathtool"), "--totp", "--base32", secret]
    if at is not None:
        args[2:2] = ["--now", f"@{int(at)}"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def read_qr(image_png: bytes, folder: Path) -> str:
    """The QR code's text, read by zbarimg from a PNG."""
    path = folder / f"qr-{secrets.token_hex(4)}.png"
    path.write_bytes(image_png)
    done = subprocess.run(
        [
            tool("zbarimg", "zbar-tools"),
            "--raw",
            "--quiet",
            "-Sdisable",
            "-Sqrcode.enable",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.removesuffix("\n")


def submit(page: Page, button: Locator) -> None:
    """Click a form's button and wait for the page the server answers with: a check run
    in between would read a document being replaced."""
    with page.expect_navigation():
        button.click()


def check_accessibility(page: Page) -> None:
    """axe-core (bundled by axe-playwright-python) on the current page: no serious or
    critical violation."""
    results = Axe().run(page)
    found = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    described = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node.get("target")) for node in v.get("nodes", []))
        for v in found
    ]
    assert described == [], f"{page.url}: " + "; ".join(described)


@dataclass
class Admin:
    user: str
    secret: str  # base32, as the QR code's otpauth URI has it
    otpauth: str
    qr_png: str  # the enrollment's QR code (a data: URL)

    def code(self) -> str:
        return totp(self.secret)


@dataclass
class Site:
    url: str
    home: Path
    admin_key: str
    _made: list[str] = field(default_factory=list)

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def new_user(self, role: str | None = "tenant_admin", language: str | None = None) -> Admin:
        """A user with a password and a confirmed authenticator app; granted ``role``."""
        name = f"user{len(self._made)}-{secrets.token_hex(3)}"
        self._made.append(name)
        with self.api() as api:
            body: dict[str, Any] = {"user": name}
            if language is not None:
                body["language"] = language
            ok(api.post("/v1/tenants/default/users", json=body))
            base = f"/v1/tenants/default/users/{name}"
            ok(api.put(f"{base}/password", json={"password": PASSWORD}))
            enrolled = ok(api.post(f"{base}/methods", json={"kind": "app_code"})).json()
            uri = enrolled["otpauth_uri"]
            secret = uri.split("secret=")[1].split("&")[0]
            # Confirmed with the previous step's code: the current one stays for the sign-in.
            confirm = {"code": totp(secret, time.time() - 30)}
            ok(api.post(f"{base}/methods/{enrolled['id']}/confirm", json=confirm))
            if role is not None:
                grant = {"tenant": "default", "user": name, "role": role}
                ok(api.post("/v1/admins", json=grant))
        return Admin(name, secret, uri, enrolled.get("qr_png", ""))

    def age_sessions(self, user: str, seconds: float) -> None:
        """Move the user's page sessions ``seconds`` into the past (as if unused that long):
        the server's clock is real, the test does not sleep."""
        db = sqlite3.connect(self.home / "twostep.db")
        try:
            with db:
                db.execute(
                    "UPDATE page_sessions SET last_seen_at = last_seen_at - ?, "
                    "created_at = created_at - ? WHERE user_id = "
                    "(SELECT id FROM users WHERE name = ?)",
                    (seconds, seconds, user),
                )
        finally:
            db.close()


def ok(answer: httpx.Response) -> httpx.Response:
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: {answer.text}"
    return answer
