"""Refuse request bodies over 64 KiB before anything reads them."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024
MAX_UPLOAD = 64 * 1024 * 1024  # token files: 100,000 CSV rows are about 5 MB
# Token files and MFA Server documents (50,000 users with phones and tokens: about 25 MB).
UPLOAD_SUFFIXES = ("/tokens/import", "/migrations/mfa-server")
# A voice prompt's recording: at most 1 MB of audio (the service refuses more, with its
# own code), and the form around it.
MAX_PROMPT_UPLOAD = 1024 * 1024 + 64 * 1024
PROMPT_SUFFIX = "/audio"


def _too_large(limit: int) -> bytes:
    return json.dumps(
        {"error": {"code": "body_too_large", "message": f"the body exceeds {limit} bytes"}}
    ).encode()


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit
        if path.endswith(UPLOAD_SUFFIXES):
            limit = MAX_UPLOAD
        elif path.endswith(PROMPT_SUFFIX):
            limit = MAX_PROMPT_UPLOAD
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_large = int(value) > limit
                except ValueError:
                    too_large = True
                if too_large:
                    await _refuse(send, limit)
                    return
        seen = 0
        refused = False

        async def counted() -> Message:
            # Past the limit (a chunked body has no Content-Length): answer 413 now and
            # tell the app the client left, so it stops reading and its answer is dropped.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded_send)


async def _refuse(send: Send, limit: int) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": _too_large(limit)})
