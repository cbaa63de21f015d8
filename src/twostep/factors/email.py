"""``email``: a one-time code sent by email, typed at the sign-in. The same rules as a
texted code: a keyed digest stored, never the code; one use; a few attempts; resends and
the delivery limits; lockout."""

from __future__ import annotations

import re

from pydantic import Field

from twostep.domain.delivery import Channel
from twostep.domain.entities import MethodKind, MethodStatus
from twostep.domain.errors import InvalidInput
from twostep.factors.base import ChallengeRules, Draft, EnrollContext, Family, Fields, Kind
from twostep.factors.phone_text import SENT_CODE_SETTINGS

MAX_ADDRESS = 254  # RFC 5321's path limit, less the angle brackets
# One plain address: no display name, no comments, nothing that could end a mail header.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[^\s@<>()\[\],;:\"\\]{1,253}$")


class EmailFields(Fields):
    email: str = Field(min_length=3, max_length=MAX_ADDRESS, description="one address")


def normalise_address(raw: str) -> str:
    """``raw`` as one address with its domain in lower case (IDNA for a non-ASCII domain),
    or InvalidInput."""
    address = raw.strip()
    if not _ADDRESS.match(address):
        raise InvalidInput("email must be one address such as alice@example.com", field="email")
    local, _, domain = address.rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidInput("email's domain is not a valid domain name", field="email") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(labels) or len(f"{local}@{ascii_domain}") > MAX_ADDRESS:
        raise InvalidInput("email's domain is not a valid domain name", field="email")
    return f"{local}@{ascii_domain}"


def make(fields: EmailFields, context: EnrollContext) -> Draft:
    """Active at once (the administrator vouches for the address, as for a phone)."""
    return Draft(
        status=MethodStatus.ACTIVE, label=fields.label, email=normalise_address(fields.email)
    )


def mask_address(address: str) -> str:
    """``a•••@example.com``: enough for the user to know which mailbox to open."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}\u2022\u2022\u2022@{domain}"


KIND = Kind(
    kind=MethodKind.EMAIL,
    title="Code by email",  # what people read (the pages translate it)
    family=Family.CHALLENGE,
    words=("email", "mail"),
    settings=("email_code_timeout", "email_sender", *SENT_CODE_SETTINGS),
    fields=EmailFields,
    make=make,
    challenge=ChallengeRules(
        channel=Channel.EMAIL,
        typed=True,
        sends_code=True,
        message="email",
        prompt="prompt_email",
        address=lambda method: method.email,
        mask=mask_address,
        timeout=lambda settings: settings.email.email_code_timeout,
    ),
)
