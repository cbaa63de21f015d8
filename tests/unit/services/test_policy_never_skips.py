"""The management portal's own sign-in never skips the second factor: Twostep protects
itself, so neither a one-time bypass, a trusted network nor a remembered browser turns an
admin's sign-in into a password alone (an integration that ``never_skips``)."""

from __future__ import annotations

from tests.unit.services.test_policy_skip import APP, NOW, TRUSTED, subject
from twostep.domain.entities import Integration
from twostep.domain.results import Reason
from twostep.services.policy import Offer, second_factor, skip

ADMIN_PAGES = Integration(
    0, 1, "pages", "pages", 0.0, trusted_client_addresses=True, never_skips=True
)
SAME_BUT_SKIPPABLE = Integration(0, 1, "pages", "pages", 0.0, trusted_client_addresses=True)
EVERYTHING = {**TRUSTED, "remember_device_enabled": True}


def test_every_skip_applies_to_an_integration_that_allows_them() -> None:
    """The control: the same user, settings and address skip elsewhere."""
    who = subject(APP, settings=EVERYTHING, bypass_until=NOW + 60)
    found = skip(who, SAME_BUT_SKIPPABLE, "10.1.1.1", NOW, remembered=True)
    assert found is not None and found.decision.reason is Reason.TRUSTED_NETWORK
    found = skip(who, SAME_BUT_SKIPPABLE, None, NOW, remembered=True)
    assert found is not None and found.decision.reason is Reason.REMEMBERED_DEVICE
    found = skip(who, SAME_BUT_SKIPPABLE, None, NOW)
    assert found is not None and found.decision.reason is Reason.BYPASS


def test_none_applies_to_the_management_portal() -> None:
    who = subject(APP, settings=EVERYTHING, bypass_until=NOW + 60)
    assert skip(who, ADMIN_PAGES, "10.1.1.1", NOW, remembered=True) is None
    assert skip(who, ADMIN_PAGES, None, NOW, remembered=True) is None
    assert skip(who, ADMIN_PAGES, None, NOW) is None
    offer = second_factor(who, NOW, None, False, skip(who, ADMIN_PAGES, None, NOW))
    assert isinstance(offer, Offer) and [m.id for m in offer.methods] == ["app"]


def test_an_admin_with_a_bypass_and_no_method_is_refused_not_let_in() -> None:
    who = subject(settings=EVERYTHING, bypass_until=NOW + 60)
    found = second_factor(who, NOW, None, False, skip(who, ADMIN_PAGES, None, NOW))
    assert not isinstance(found, Offer) and found.reason is Reason.NO_METHOD_REGISTERED
