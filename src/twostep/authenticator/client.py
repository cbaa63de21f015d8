"""``DeviceClient``: the device API over HTTP (docs/device-api.md §1-§3).

A test drives it in-process by handing it an httpx transport (``httpx.MockTransport``,
or any ``httpx.BaseTransport`` in front of an app) instead of the network.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from typing import Any
from urllib.parse import quote

import httpx

from twostep.authenticator.errors import (
    AccountNotActivated,
    ActivationInvalid,
    DeviceApiError,
    ProtocolError,
    ServerUnreachable,
)
from twostep.authenticator.model import (
    Activation,
    AnswerResult,
    Decision,
    SignInRequest,
    requests_from_json,
)
from twostep.authenticator.signing import DeviceKey, answer_signature, authorization
from twostep.authenticator.uri import ACTIVATE_PATH

MAX_WAIT = 30  # seconds a long-poll asks the server to hold the request
PLATFORM = "reference"
USER_AGENT = "twostep-authenticator"


class DeviceAuth(httpx.Auth):
    """Signs each request as it goes on the wire: method, raw path with query, time."""

    def __init__(self, device_id: str, key: DeviceKey, clock: Callable[[], float]) -> None:
        self.device_id = device_id
        self.key = key
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        path = request.url.raw_path.decode("ascii")
        request.headers["Authorization"] = authorization(
            self.key, self.device_id, request.method, path, int(self.clock())
        )
        yield request


class DeviceClient:
    """One device's view of one server. ``activate`` gives it its device id and key;
    a client for an already activated device is built with both."""

    def __init__(
        self,
        base_url: str,
        *,
        device_id: str | None = None,
        key: DeviceKey | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self.key = key
        self.clock = clock
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def activate(
        self,
        code: str,
        key: DeviceKey,
        *,
        name: str = "",
        push: dict[str, str] | None = None,
        activation_url: str | None = None,
    ) -> Activation:
        """``POST /v1/devices/activate`` with the new public key; the client then acts
        as the activated device."""
        body = {
            "code": code,
            "key_type": str(key.key_type),
            "public_key": key.public_key_b64(),
            "name": name,
            "platform": PLATFORM,
            "push": push or {"kind": "pull"},
        }
        url = activation_url or self.base_url + ACTIVATE_PATH
        activation = Activation.from_json(self._call("POST", url, signed=False, json=body))
        self.device_id = activation.device_id
        self.key = key
        return activation

    def requests(self, wait: float = MAX_WAIT) -> list[SignInRequest]:
        """Pending sign-in requests; the server holds the call up to ``wait`` seconds
        (capped at 30) until one arrives."""
        seconds = max(0, min(math.ceil(wait), MAX_WAIT))
        timeout = httpx.Timeout(self.timeout, read=seconds + self.timeout)
        data = self._call(
            "GET", f"{self._device_path()}/requests", params={"wait": seconds}, timeout=timeout
        )
        return requests_from_json(data)

    def answer(
        self, request: SignInRequest, decision: Decision | str, number: int | None = None
    ) -> AnswerResult:
        """Answer one request. ``number`` (the one on the sign-in page) is required to
        approve; it is signed with the transaction id, the decision and the nonce."""
        decision = Decision(decision)
        if decision is Decision.APPROVE and number is None:
            raise ValueError("approving needs the number shown on the sign-in page")
        _, key = self._device()
        body: dict[str, Any] = {"decision": str(decision)}
        if number is not None:
            body["number"] = number
        body["nonce"] = request.nonce
        body["signature"] = answer_signature(
            key, request.transaction_id, str(decision), number, request.nonce
        )
        path = f"{self._device_path()}/requests/{quote(request.transaction_id, safe='')}"
        return AnswerResult.from_json(self._call("POST", path, json=body))

    def _device(self) -> tuple[str, DeviceKey]:
        if self.key is None or self.device_id is None:
            raise RuntimeError("the client has no device yet: activate first")
        return self.device_id, self.key

    def _device_path(self) -> str:
        return f"/v1/devices/{quote(self._device()[0], safe='')}"

    def _call(self, method: str, url: str, *, signed: bool = True, **kwargs: Any) -> Any:
        auth = DeviceAuth(*self._device(), self.clock) if signed else None
        try:
            response = self._http.request(method, url, auth=auth, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(f"{self.base_url} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self.base_url}: {exc}") from exc
        if response.is_success:
            try:
                return response.json()
            except ValueError as exc:
                raise ProtocolError(
                    f"{method} {response.request.url.path} answered {response.status_code} "
                    "without JSON"
                ) from exc
        raise self._error(response)

    def _error(self, response: httpx.Response) -> DeviceApiError:
        code, message = "http_error", f"HTTP {response.status_code}"
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            code = error["code"]
            message = str(error.get("message") or "")
        status = response.status_code
        if code == "account_not_activated":
            return AccountNotActivated(status, code, message, self.device_id or "<device id>")
        if code == "activation_invalid":
            return ActivationInvalid(status, code, message)
        return DeviceApiError(status, code, message)
