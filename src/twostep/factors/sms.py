"""``sms``: a one-time code texted to the user's phone, typed at the sign-in."""

from __future__ import annotations

from twostep.domain.delivery import Channel
from twostep.domain.entities import MethodKind
from twostep.domain.phone import mask_phone
from twostep.factors.base import ChallengeRules, Draft, EnrollContext, Family, Kind
from twostep.factors.phone import CHALLENGE_SETTINGS, PhoneFields, number, textable


def make(fields: PhoneFields, context: EnrollContext) -> Draft:
    return number(fields, context, texts=True)


KIND = Kind(
    kind=MethodKind.SMS,
    title="Code by text message",  # what people read (the pages translate it)
    family=Family.CHALLENGE,
    words=("sms", "text"),
    settings=("sms_code_timeout", "sms_sender", *CHALLENGE_SETTINGS),
    fields=PhoneFields,
    make=make,
    challenge=ChallengeRules(
        channel=Channel.SMS,
        typed=True,
        sends_code=True,
        message="sms",
        prompt="prompt_sms",
        address=lambda method: method.phone,
        mask=mask_phone,
        allowed=textable,
        timeout=lambda settings: settings.phone.sms_code_timeout,
    ),
)
