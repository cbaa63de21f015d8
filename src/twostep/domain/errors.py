"""The error tree. Every error has a stable ``code``; interfaces map them in one place.

Codes are part of the public contract (docs/error-codes.md lists them): never rename one.
"""

from __future__ import annotations


class TwostepError(Exception):
    """Root of every error Twostep raises on purpose."""

    code = "error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self.args[0])


class InvalidInput(TwostepError):
    """The request is not valid."""

    code = "invalid_request"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ControlCharacter(InvalidInput):
    """Text holds a control character (the one input rule, domain/text.py); the same code,
    a type of its own so that the pages can answer it in words of their own."""


class InvalidPhoneNumber(InvalidInput):
    """The phone number is not a valid E.164 number."""

    code = "invalid_phone_number"


class InvalidSetting(InvalidInput):
    """A tenant setting is out of range or of the wrong type."""

    code = "invalid_setting"


class NotFound(TwostepError):
    """The resource does not exist."""

    code = "not_found"


class TenantNotFound(NotFound):
    """No such tenant."""

    code = "tenant_not_found"


class UserNotFound(NotFound):
    """No such user."""

    code = "user_not_found"


class MethodNotFound(NotFound):
    """No such method for this user."""

    code = "method_not_found"


class IntegrationNotFound(NotFound):
    """No such integration."""

    code = "integration_not_found"


class AdminKeyNotFound(NotFound):
    """No such API key."""

    code = "api_key_not_found"


class TransactionNotFound(NotFound):
    """No such transaction, or it has expired."""

    code = "transaction_not_found"


class GatewayNotFound(NotFound):
    """No such gateway."""

    code = "gateway_not_found"


class ActivationInvalid(NotFound):
    """The activation code is unknown, used or expired."""

    code = "activation_invalid"


class DirectoryNotFound(NotFound):
    """No such directory in the tenant."""

    code = "directory_not_found"


class AppPasswordNotFound(NotFound):
    """No such app password of this user."""

    code = "app_password_not_found"


class EnrollmentLinkInvalid(NotFound):
    """The enrollment link is unknown, used, revoked or expired (one answer for all)."""

    code = "enrollment_link_invalid"


class AuditEventNotFound(NotFound):
    """No such sign-in of this user."""

    code = "audit_event_not_found"


class AdminGrantNotFound(NotFound):
    """No such admin grant (or one this admin may not manage)."""

    code = "admin_grant_not_found"


class ImportJobNotFound(NotFound):
    """No such token import in this tenant (or one the admin may not see)."""

    code = "import_job_not_found"


class Conflict(TwostepError):
    """The resource already exists or is in a conflicting state."""

    code = "conflict"


class TenantExists(Conflict):
    """A tenant with this name already exists."""

    code = "tenant_exists"


class UserExists(Conflict):
    """A user with this ID already exists in the tenant."""

    code = "user_exists"


class IntegrationExists(Conflict):
    """An integration with this name already exists in the tenant."""

    code = "integration_exists"


class NetworkOverlap(Conflict):
    """The RADIUS client's network is already a client's, or lies in another tenant's."""

    code = "network_overlap"


class MethodNotPending(Conflict):
    """The method is already confirmed."""

    code = "method_not_pending"


class MethodPending(Conflict):
    """The method is not confirmed yet."""

    code = "method_pending"


class SerialInUse(Conflict):
    """An OATH token with this serial is already registered in the tenant."""

    code = "serial_in_use"


class GatewayExists(Conflict):
    """A gateway with this name already exists in the tenant."""

    code = "gateway_exists"


class DirectoryExists(Conflict):
    """A directory with this name already exists in the tenant."""

    code = "directory_exists"


class AppPasswordExists(Conflict):
    """This user already has an app password of that name."""

    code = "app_password_exists"


class AdminGrantExists(Conflict):
    """The user already has this role over this tenant."""

    code = "admin_grant_exists"


class UserRegistered(Conflict):
    """The user already has a registered method: an enrollment link is for a first one."""

    code = "user_registered"


class SyncRunning(Conflict):
    """A sync of this directory is running on this or another node; wait for it."""

    code = "sync_running"


class ImportRunning(Conflict):
    """A token import of this tenant is running (on this or another worker); wait for it."""

    code = "import_running"


class ResendRefused(Conflict):
    """The challenge cannot be resent now: too soon, too often, finished, or not a text."""

    code = "resend_refused"


class RateLimited(TwostepError):
    """Too many texts or calls for this user or tenant; try again later."""

    code = "rate_limited"


class NumberNotAllowed(InvalidInput):
    """The number's country is not allowed, or the number cannot take this method."""

    code = "number_not_allowed"


class ConfirmationFailed(TwostepError):
    """The code does not confirm the method."""

    code = "invalid_code"


class ResyncFailed(TwostepError):
    """The two codes are not consecutive codes of this token within the resync window."""

    code = "resync_failed"


class Unauthenticated(TwostepError):
    """Missing or invalid credentials."""

    code = "unauthenticated"


class Forbidden(TwostepError):
    """These credentials may not do this."""

    code = "forbidden"


class SecretKeyError(TwostepError):
    """The secret key is missing, malformed, or cannot decrypt a stored secret."""

    code = "secret_key_error"


class CsrfRefused(Forbidden):
    """A page's form came without its session's token, or from another site."""

    code = "csrf_refused"


class NotAnAdmin(Forbidden):
    """Signed in to the management portal without an admin role (no admin grant)."""

    code = "not_an_admin"


class RegistrationFirst(Forbidden):
    """The user must register a method before anything else at the self-service portal."""

    code = "registration_first"


class AppPasswordsNotAllowed(Forbidden):
    """The tenant does not allow app passwords (its ``app_passwords_allowed`` setting)."""

    code = "app_passwords_not_allowed"


class MethodDisabled(Forbidden):
    """The tenant turned this method kind off (its ``disabled_kinds`` setting)."""

    code = "method_disabled"


class DirectoryUnavailable(TwostepError):
    """No server of the directory answered, or it refused the reading account."""

    code = "directory_unavailable"


class AccountNotActivated(Forbidden):
    """Authentication request is not for an activated account."""

    code = "account_not_activated"


# -- hosted sign-in (/signin): docs/hosted-signin.md -------------------------------------


class SigninRequestInvalid(InvalidInput):
    """The hosted sign-in request is not a well-formed request token: too long, not three
    base64url parts, not JSON, a claim missing or of the wrong type or size."""

    code = "signin_request_invalid"


class SigninRequestSignature(InvalidInput):
    """The hosted sign-in request's signature does not verify: an ``alg`` other than
    HS256, an unknown or revoked integration key id, no signing secret, or another MAC."""

    code = "signin_request_signature"


class SigninRequestExpired(InvalidInput):
    """The hosted sign-in request is expired, issued in the future, or lives longer than
    10 minutes."""

    code = "signin_request_expired"


class SigninRequestReplayed(Conflict):
    """This hosted sign-in request (its ``jti``) already started a sign-in."""

    code = "signin_request_replayed"


class ReturnUrlNotAllowed(Forbidden):
    """The request's ``redirect_uri`` is not on the integration's list of return URLs."""

    code = "return_url_not_allowed"


class SigninResultNotFound(NotFound):
    """No result of this integration with this ``jti`` that may still be redeemed (unknown,
    another integration's, or expired)."""

    code = "signin_result_not_found"


class SigninResultRedeemed(Conflict):
    """This hosted sign-in result was already redeemed."""

    code = "signin_result_redeemed"


# -- providers and billing (issue 15): docs/operator-guide.md#providers-and-billing ------


class ProviderNotFound(NotFound):
    """No such provider, or one this admin may not see."""

    code = "provider_not_found"


class BillingModelImmutable(Conflict):
    """A provider's billing model is chosen at creation and never changes."""

    code = "billing_model_immutable"


class TenantHasProvider(Conflict):
    """The tenant is already linked to a provider: delete it first (a replacement)."""

    code = "tenant_has_provider"


class ProviderRequired(Conflict):
    """The integration's tenant is linked to no provider to activate it under."""

    code = "provider_required"


class StatementMonthInvalid(InvalidInput):
    """The statement's month is not YYYY-MM (1970 or later)."""

    code = "statement_month_invalid"


class ReportRangeInvalid(InvalidInput):
    """A report's days are not YYYY-MM-DD (1970 or later), run backwards, or span more
    days than a report covers."""

    code = "report_range_invalid"


class IntegrationNotActivated(Forbidden):
    """The integration's provider was replaced: it must be activated again."""

    code = "integration_not_activated"


class IntegrationActivationInvalid(NotFound):
    """The activation code and password are unknown, wrong, used, locked or expired."""

    code = "integration_activation_invalid"


class LicensesExhausted(Conflict):
    """Every license the tenant holds is assigned."""

    code = "licenses_exhausted"


class LicensesInUse(Conflict):
    """The tenant would hold fewer licenses than are assigned: unassign some first."""

    code = "licenses_in_use"


class AudioRefused(InvalidInput):
    """The upload is not a voice prompt this server plays."""

    code = "audio_refused"


class AudioTooLarge(AudioRefused):
    """A voice prompt is at most 1 MB."""

    code = "audio_too_large"


class AudioTooLong(AudioRefused):
    """A voice prompt lasts under 20 seconds."""

    code = "audio_too_long"


class AudioUnreadable(AudioRefused):
    """The file is not a readable PCM WAV or MP3 (MPEG Layer III) recording."""

    code = "audio_unreadable"


class AudioFormatRefused(AudioRefused):
    """A voice prompt is a .wav or .mp3 file."""

    code = "audio_format_refused"


class RememberedDeviceNotFound(NotFound):
    """No remembered browser of this user has that id."""

    code = "remembered_device_not_found"


class VoicePromptNotFound(NotFound):
    """The tenant has no recording for that prompt and language."""

    code = "voice_prompt_not_found"
