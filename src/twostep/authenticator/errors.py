"""What can go wrong in the authenticator: one root, each message fit to show the user."""

from __future__ import annotations


class AuthenticatorError(Exception):
    """The root: every error the authenticator reports to its user."""


class KeystoreError(AuthenticatorError):
    """The accounts file cannot be read or written."""


class AccountNotFound(AuthenticatorError):
    """No stored account matches the selection, or several do."""


class InvalidActivation(AuthenticatorError):
    """The activation URL, code or QR text is not one this client can use."""


class ServerUnreachable(AuthenticatorError):
    """The server could not be reached, or did not answer in time."""


class ProtocolError(AuthenticatorError):
    """The server answered something that is not what the device API says."""


class DeviceApiError(AuthenticatorError):
    """The server answered an error (``{"error": {"code", "message"}}``)."""

    def __init__(self, status: int, code: str, message: str, text: str | None = None) -> None:
        super().__init__(text or (f"[{code}] {message}" if message else f"[{code}]"))
        self.status = status
        self.code = code
        self.message = message


class ActivationInvalid(DeviceApiError):
    """``activation_invalid``: the code is unknown, used or expired."""


class AccountNotActivated(DeviceApiError):
    """``account_not_activated``: the server no longer knows this device (it was
    deactivated, replaced, or its user was reset). The only way on is a new activation."""

    def __init__(self, status: int, code: str, message: str, device_id: str) -> None:
        shown = message or "Authentication request is not for an activated account"
        super().__init__(
            status,
            code,
            message,
            f"{shown.rstrip('.')}. Remove this account "
            f"(twostep-authenticator remove {device_id}) and activate it again "
            "with a new activation code.",
        )
        self.device_id = device_id
