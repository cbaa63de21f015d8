"""Remembered browsers: after a second factor at the hosted sign-in page or the
self-service portal, a user may have their browser remembered there for
``remember_device_days``; until then (and while the tenant keeps the setting on) that
page skips their second factor. The browser holds a cookie with the device's id and a
random secret; the server keeps only the secret's keyed digest, so a row deleted is a
device revoked, and a database copy cannot make a cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# The pages that remember: the hosted sign-in page (/signin) and the self-service portal
# (/my). Never the RADIUS or validate API, nor the management portal.
Page = Literal["signin", "my"]
PAGES: tuple[Page, ...] = get_args(Page)


@dataclass(frozen=True, slots=True)
class RememberedDevice:
    id: str  # public: the cookie's first part, and what a revocation names
    tenant_id: int
    user_id: int
    page: Page
    created_at: float
    expires_at: float
    label: str | None = None  # the browser, as its User-Agent names it (shortened)
    last_used_at: float | None = None
