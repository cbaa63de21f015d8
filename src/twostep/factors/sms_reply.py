"""``sms_reply``: a text with a code the user texts back (two-way SMS)."""

from __future__ import annotations

from twostep.domain.delivery import Channel
from twostep.domain.entities import MethodKind
from twostep.domain.phone import mask_phone
from twostep.factors.base import ChallengeRules, Draft, EnrollContext, Family, Kind
from twostep.factors.phone import CHALLENGE_SETTINGS, PhoneFields, number, textable


def make(fields: PhoneFields, context: EnrollContext) -> Draft:
    return number(fields, context, texts=True)


KIND = Kind(
    kind=MethodKind.SMS_REPLY,
    title="Reply to a text message",  # what people read (the pages translate it)
    family=Family.CHALLENGE,
    words=("sms_reply", "reply"),
    settings=("sms_reply_timeout", "sms_sender", *CHALLENGE_SETTINGS),
    fields=PhoneFields,
    make=make,
    challenge=ChallengeRules(
        channel=Channel.SMS,
        typed=False,
        sends_code=True,
        message="sms_reply",
        prompt="prompt_sms_reply",
        address=lambda method: method.phone,
        mask=mask_phone,
        allowed=textable,
        timeout=lambda settings: settings.phone.sms_reply_timeout,
    ),
)
