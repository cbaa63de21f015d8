"""What a verification answers: a result and, when denied, a stable reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Result(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    CHALLENGE = "challenge"


class Reason(StrEnum):
    """Stable reason codes (docs/error-codes.md). Never rename one."""

    INVALID_CODE = "invalid_code"  # wrong code, unknown user, malformed code
    INVALID_PASSWORD = "invalid_password"  # noqa: S105 - a wrong (or missing) primary password
    CODE_REPLAYED = "code_replayed"  # a valid code already used (TOTP; HOTP: the last 5)
    USER_LOCKED = "user_locked"  # too many failures
    NO_METHOD_REGISTERED = "no_method_registered"  # the user has no active method
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - the only methods left are past valid_until
    METHOD_NOT_REGISTERED = "method_not_registered"  # the asked-for method is not the user's
    METHOD_NOT_SUPPORTED = "method_not_supported"  # this server cannot do that method yet
    MFA_NOT_REQUIRED = "mfa_not_required"  # accept: the user's MFA state is disabled
    # accept: a RADIUS client without "require user match", a user unknown or without a
    # method, after the primary password (services/signin_options.py)
    USER_MATCH_NOT_REQUIRED = "user_match_not_required"
    BYPASS = "bypass"  # accept: the user's one-time bypass, used by this sign-in
    TRUSTED_NETWORK = "trusted_network"  # accept: a vouched client address in a trusted network
    # accept: a page (hosted sign-in, self-service portal) the user had remember this browser
    REMEMBERED_DEVICE = "remembered_device"
    CODE_REQUIRED = "code_required"  # a code method was chosen but no code sent
    TIMEOUT = "timeout"  # the challenge expired before it was answered (or the answer was late)
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # the challenge's wrong-code budget is spent
    DELIVERY_FAILED = "delivery_failed"  # no gateway could deliver the text or the call
    RATE_LIMITED = "rate_limited"  # the user's or tenant's texts-and-calls limit is reached
    NUMBER_NOT_ALLOWED = "number_not_allowed"  # country not allowed, or premium/non-mobile
    FRAUD_REPORTED = "fraud_reported"  # the user reported the sign-in as not theirs
    CALL_NOT_ANSWERED = "call_not_answered"  # the call ended without "#"
    INVALID_PIN = "invalid_pin"  # a wrong PIN was entered in the call
    DENIED = "denied"  # the user denied the push request
    WRONG_NUMBER = "wrong_number"  # the number typed on the device is not the one shown
    INVALID_SIGNATURE = "invalid_signature"  # a push answer not signed by the device's key
    SUPERSEDED = "superseded"  # the user chose another method for this sign-in (RADIUS)
    INVALID_REQUEST = "invalid_request"  # audit only: refused by the text rule before it started
    USER_DISABLED = "user_disabled"  # disabled by an admin, or gone or disabled in the directory
    DIRECTORY_UNAVAILABLE = "directory_unavailable"  # the password's directory did not answer
    REGISTRATION_REQUIRED = "registration_required"  # an admin asked the user to register again
    REGISTRATION_POLICY = "registration_policy"  # the user's group must register another kind
    DEFAULT_METHOD_DISABLED = "default_method_disabled"  # its kind is off: pick another (methods)
    METHOD_DISABLED = "method_disabled"  # the asked-for kind is turned off in this tenant
    # A legacy client sent the primary password of a user who must use two-step verification.
    TWO_STEP_REQUIRED_FOR_LEGACY_CLIENT = "two_step_required_for_legacy_client"
    # The integration (a RADIUS client, a hosted sign-in's application) waits to be
    # activated again after its tenant's provider was replaced: nothing is checked or sent.
    INTEGRATION_NOT_ACTIVATED = "integration_not_activated"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of one validation, as every interface reports it."""

    result: Result
    reason: Reason | None = None
    transaction_id: str | None = None
    methods: tuple[str, ...] = field(default=())
    number: int | None = None  # app_push: the number the sign-in page shows
    prompt: str | None = None  # for a challenge: what to tell the user ("Enter the code sent to…")
    message: str | None = None  # for a reject: what the user should do (shown by RADIUS)
