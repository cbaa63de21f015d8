"""The kinds of method, by the name they are stored and sent under. What each kind is and
does lives in its module in ``factors/`` (the registry); this enum only names them, so
the settings can name them too."""

from __future__ import annotations

from enum import StrEnum


class MethodKind(StrEnum):
    APP_CODE = "app_code"
    OATH_TOKEN = "oath_token"  # noqa: S105 - a method name, not a password
    APP_PUSH = "app_push"
    SMS = "sms"
    SMS_REPLY = "sms_reply"
    VOICE = "voice"
    EMAIL = "email"
