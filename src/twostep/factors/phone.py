"""What the phone kinds (sms, sms_reply, voice) share: the enrollment fields of a number
and how a number is made ready. They do not inherit from one another; they call this."""

from __future__ import annotations

from pydantic import Field

from twostep.domain.entities import MethodStatus
from twostep.domain.phone import check_destination, normalise_phone
from twostep.domain.settings import TenantSettings
from twostep.factors.base import Draft, EnrollContext, Fields
from twostep.factors.phone_text import SENT_CODE_SETTINGS

# The settings every phone challenge reads: those of a sent code, and the allowed countries.
CHALLENGE_SETTINGS = (*SENT_CODE_SETTINGS, "allowed_calling_codes")


class PhoneFields(Fields):
    phone: str = Field(min_length=1, max_length=32, description="E.164, e.g. +14155550123")


def number(
    fields: PhoneFields, context: EnrollContext, *, texts: bool, pin: str | None = None
) -> Draft:
    """An active method for the number (the administrator vouches for it): in E.164, in
    an allowed country, and of a type that can take texts (``texts``) or calls."""
    e164 = normalise_phone(fields.phone)
    check_destination(
        e164, texts=texts, allowed_calling_codes=context.settings.phone.allowed_calling_codes
    )
    return Draft(status=MethodStatus.ACTIVE, label=fields.label, phone=e164, pin=pin)


def textable(e164: str, settings: TenantSettings) -> None:
    """The tenant still texts this number (its country allowed, a type that takes texts)."""
    check_destination(e164, texts=True, allowed_calling_codes=settings.phone.allowed_calling_codes)


def callable_(e164: str, settings: TenantSettings) -> None:
    """The tenant still calls this number."""
    check_destination(e164, texts=False, allowed_calling_codes=settings.phone.allowed_calling_codes)
