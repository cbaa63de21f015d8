"""The self-service portal's texts from Python (marked ``N_``, translated when shown)."""

from __future__ import annotations

from twostep.interfaces.web.texts import N_

SIGNIN_TITLE = N_("Sign in to manage your security info")
NEEDS_LINK = N_(
    "You have no method to sign in with yet. Ask your administrator for an enrollment link."
)
PROVE_FIRST = N_(
    "Your organisation asks you to register another method. Verify it is you with one you "
    "have first."
)
LINK_INVALID = N_(
    "This enrollment link does not work: it was used, replaced or has expired. Ask your "
    "administrator for a new one."
)
LINK_PASSWORD = N_("The password is not right, or the account is locked.")
REGISTER_FIRST = N_("Register a method first: your account needs one to sign in.")
CODE_WRONG = N_("That code is not right. Enter the current code from the app.")
ENROLLMENT_EXPIRED = N_("This registration has expired. Please start again.")
NUMBER_INVALID = N_("Enter the number in international format, for example +14155550123.")
NUMBER_REFUSED = N_("This number cannot be used for this method. Enter another number.")
LAST_METHOD = N_("This is your last method: add another one before removing it.")
NOT_ALLOWED = N_("Your organisation does not allow this.")
NAME_TAKEN = N_("You already have an app password with this name, or too many of them.")
NAME_INVALID = N_("Give a name of 1 to 64 characters.")

DONE = {
    "app": N_("Your authenticator app is ready."),
    "phone": N_("Your phone number is confirmed."),
    "device": N_("Your mobile authenticator is ready."),
    "default": N_("Your default method changed."),
    "deleted": N_("The method was removed."),
    "language": N_("Your language setting was saved."),
    "reported": N_("Thank you. Your administrator was told about this sign-in."),
    "deleted_password": N_("The app password was deleted."),
}

STATUSES = {
    "pending": N_("Waiting for confirmation"),
    "active": N_("Active"),
    "lost": N_("Reported lost"),
    "unassigned": N_("Not assigned"),
}

RESULTS = {
    "accept": N_("Accepted"),
    "reject": N_("Refused"),
    "challenge": N_("Waiting for an answer"),
}
