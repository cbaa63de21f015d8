"""``voice``: a phone call the user answers with # (after a PIN when there is one); 0#
reports fraud."""

from __future__ import annotations

from pydantic import Field

from twostep.domain.delivery import Channel
from twostep.domain.entities import MethodKind
from twostep.domain.errors import InvalidInput
from twostep.domain.phone import mask_phone
from twostep.factors.base import ChallengeRules, Draft, EnrollContext, Family, Kind
from twostep.factors.phone import CHALLENGE_SETTINGS, PhoneFields, callable_, number


class VoiceFields(PhoneFields):
    pin: str | None = Field(default=None, pattern=r"^[0-9]{4,8}$", description="4-8 digits")


def make(fields: VoiceFields, context: EnrollContext) -> Draft:
    """The number, and the PIN the caller enters before # (sealed like a seed)."""
    if fields.pin is None and context.settings.phone.voice_pin_required:
        raise InvalidInput("this tenant requires a PIN for voice methods", field="pin")
    return number(fields, context, texts=False, pin=fields.pin)


KIND = Kind(
    kind=MethodKind.VOICE,
    title="Phone call",  # what people read (the pages translate it)
    family=Family.CHALLENGE,
    words=("voice", "call", "phone"),
    settings=(
        "voice_timeout",
        "caller_id",
        "voice_pin_required",
        "fraud_blocks_user",
        *CHALLENGE_SETTINGS,
    ),
    fields=VoiceFields,
    make=make,
    challenge=ChallengeRules(
        channel=Channel.VOICE,
        typed=False,
        sends_code=False,
        message="voice",
        prompt="prompt_voice",
        address=lambda method: method.phone,
        mask=mask_phone,
        allowed=callable_,
        timeout=lambda settings: settings.phone.voice_timeout,
    ),
)
