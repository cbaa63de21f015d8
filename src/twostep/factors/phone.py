"""The phone methods: how each is challenged and finished.

``sms``: a code is texted; the integration submits it. ``sms_reply``: a code is texted;
the user texts it back (the gateway's inbound webhook). ``voice``: a call; the user
presses # (after a PIN when the tenant asks for one); 0# reports fraud.
"""

from __future__ import annotations

from dataclasses import dataclass

from twostep.domain.delivery import Channel
from twostep.domain.entities import MethodKind
from twostep.domain.settings import TenantSettings


@dataclass(frozen=True, slots=True)
class PhoneFactor:
    kind: MethodKind
    channel: Channel
    words: str  # the message key in phone_text
    prompt: str  # what the sign-in page or the RADIUS Reply-Message says
    code_submitted: bool  # the integration submits the code (sms); else the user answers

    def timeout(self, settings: TenantSettings) -> int:
        if self.kind is MethodKind.SMS:
            return settings.phone.sms_code_timeout
        if self.kind is MethodKind.SMS_REPLY:
            return settings.phone.sms_reply_timeout
        return settings.phone.voice_timeout


PHONE_FACTORS = {
    MethodKind.SMS: PhoneFactor(MethodKind.SMS, Channel.SMS, "sms", "prompt_sms", True),
    MethodKind.SMS_REPLY: PhoneFactor(
        MethodKind.SMS_REPLY, Channel.SMS, "sms_reply", "prompt_sms_reply", False
    ),
    MethodKind.VOICE: PhoneFactor(MethodKind.VOICE, Channel.VOICE, "voice", "prompt_voice", False),
}
