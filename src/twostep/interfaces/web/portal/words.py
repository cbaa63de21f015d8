"""The portal's texts from Python (marked ``N_``; templates translate them with ``_()``):
notices after an action, refusals, and the names of results and MFA states."""

from __future__ import annotations

from twostep.interfaces.web.texts import N_

FAILED_TITLE = N_("That did not work")
FAILED = N_("The server refused this. Nothing was changed.")
OTHER_TENANT = N_(
    "Your role does not allow this page, or it belongs to an organisation you do not manage."
)

NOTICES = {
    "unlocked": N_("The user was unlocked."),
    "disabled": N_("The user was disabled: every sign-in is refused."),
    "enabled": N_("The user was enabled again."),
    "reregister": N_("The user must register their methods again."),
    "mfa": N_("The two-step verification state was changed."),
    "bypass": N_("The user's next sign-in in the time given skips the second factor, once."),
    "bypass_cancelled": N_("The one-time bypass was cancelled."),
    "prompt_uploaded": N_("The recording was saved: calls in its language play it."),
    "prompt_deleted": N_("The recording was deleted: calls speak that prompt again."),
    "forgotten": N_(
        "The user's remembered browsers were forgotten: the pages ask for the second factor again."
    ),
    "app_password": N_("The app password was deleted."),
    "assigned": N_("The token was assigned."),
    "revoked": N_("The integration was revoked."),
    "integration_changed": N_("The integration was changed."),
    "radius_deleted": N_("The RADIUS client was deleted."),
    "radius_updated": N_("The RADIUS client's options were saved."),
    "gateway_deleted": N_("The gateway was deleted."),
    "gateway_added": N_("The gateway was added."),
    "gateway_changed": N_("The gateway's settings were changed."),
    "settings": N_("The settings were saved."),
}

RESULTS = {
    "accept": N_("Accepted"),
    "reject": N_("Rejected"),
    "challenge": N_("Challenged"),
}
NO_METHOD = N_("Before a method was chosen")

MFA_STATES = {
    "enabled": N_("Enabled: a second factor is required"),
    "enforced": N_("Enforced: a second factor is required and registered"),
    "disabled": N_("Disabled: no second factor is asked"),
}

RANGE_ERROR = N_("Must be a whole number from %(low)s to %(high)s.")
SETTING_ERROR = N_("This value is not accepted.")
NOT_JSON = N_("The settings must be a JSON object.")

STATUSES = {  # methods', tokens' and devices' states
    "pending": N_("Waiting for its first code"),
    "active": N_("Active"),
    "unassigned": N_("In the pool"),
    "lost": N_("Lost"),
    "revoked": N_("Revoked"),
}
