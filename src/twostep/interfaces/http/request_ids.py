"""``X-Request-ID``: every request has an id, taken from the caller or made here.

A caller's id is kept when it is 1-128 printable ASCII characters; anything else (too
long, a control character, a byte past ASCII) is replaced by a new one, and so is a
missing one (32 hex digits). The id is answered in the response's ``X-Request-ID``,
carried into every log line of the request and into its audit event.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twostep.adapters.logs import accepted_request_id, reset_request_id, set_request_id

HEADER = b"x-request-id"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope.get("headers", ()) if k == HEADER), None)
        request_id = accepted_request_id(sent.decode("latin-1") if sent is not None else None)
        answered = request_id.encode("ascii")

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, answered)]}
            await send(message)

        token = set_request_id(request_id)
        await self.app(scope, receive, with_id)
        # Left set when the app raised: the server-error handler, outside this middleware
        # (in the request's own task), logs the error and answers 500 with this id.
        reset_request_id(token)
