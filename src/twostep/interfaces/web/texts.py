"""Texts the pages take from Python (marked with ``N_`` for extraction, translated when a
template shows them with ``_()``): method kinds and the reasons a second factor failed."""

from __future__ import annotations

from twostep.domain.results import Reason
from twostep.factors import registry


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    return message


# Each method kind's name for people: its registry declaration's title (a new kind brings
# its own; kind_texts.py puts every title in the catalogs).
KINDS = {kind: declared.title for kind, declared in registry.KINDS.items()}

SIGNIN_FAILED = N_(
    "The sign-in failed: check the organisation, user name and password. After too many "
    "failures the account is locked for a while."
)
SIGNIN_EXPIRED = N_("Your sign-in took too long. Please sign in again.")
SESSION_ENDED = N_("Your session has ended. Please sign in again.")
FACTOR_REQUIRED = N_(
    "This account has no second factor, which the management portal requires. Register a "
    "method first."
)
CSRF_REFUSED = N_(
    "The form could not be accepted (it has expired, or it came from another site). "
    "Go back, reload the page and try again."
)
NOT_AN_ADMIN = N_(
    "You signed in, but your account has no administrator role. Ask an administrator to "
    "grant you one."
)
RESENT = N_("A new code was sent. The previous code no longer works.")
RESEND_REFUSED = N_("The code cannot be sent again yet. Wait a little, or choose another method.")
CALLED_AGAIN = N_("Calling you again. Answer the new call.")
CALL_AGAIN_REFUSED = N_("You cannot be called again yet. Wait a little, or choose another method.")
STILL_WAITING = N_("Still waiting for your answer on the phone.")

REASONS = {
    Reason.INVALID_CODE: N_("That code is not right. Try again."),
    Reason.CODE_REPLAYED: N_("That code was already used. Wait for the next one."),
    Reason.NO_METHOD_REGISTERED: N_("You have no method registered yet."),
    Reason.METHOD_NOT_REGISTERED: N_("That method is not registered for you."),
    Reason.TIMEOUT: N_("The request expired. Choose a method to try again."),
    Reason.TOO_MANY_ATTEMPTS: N_("Too many wrong codes. Choose a method to try again."),
    Reason.DELIVERY_FAILED: N_(
        "The message or call could not be delivered. Choose another method."
    ),
    Reason.RATE_LIMITED: N_(
        "Too many messages or calls lately. Try later or choose another method."
    ),
    Reason.DENIED: N_("The request was denied on the phone."),
    Reason.FRAUD_REPORTED: N_("The request was reported as fraud. The account is locked."),
    Reason.WRONG_NUMBER: N_("The number chosen on the phone did not match."),
    Reason.CALL_NOT_ANSWERED: N_("The call ended without an answer. Choose a method to try again."),
    Reason.REGISTRATION_REQUIRED: N_("You must register your methods again first."),
    Reason.REGISTRATION_POLICY: N_("Your organisation requires another kind of method first."),
    Reason.DEFAULT_METHOD_DISABLED: N_("Your default method is turned off. Choose another."),
    Reason.METHOD_DISABLED: N_("That method is turned off. Choose another."),
    Reason.TOKEN_EXPIRED: N_(
        "Your hardware token has expired. Choose another method, or ask for a new token."
    ),
}
OTHER_FAILURE = N_("The second factor failed. Choose a method to try again.")


def reason_text(reason: Reason | None) -> str:
    return REASONS.get(reason, OTHER_FAILURE) if reason is not None else OTHER_FAILURE


ROLES = {
    "global_admin": N_("Global administrator"),
    "tenant_admin": N_("Tenant administrator"),
    "help_desk": N_("Help desk"),
}
