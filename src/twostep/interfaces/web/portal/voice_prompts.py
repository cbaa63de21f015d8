"""Custom voice prompts on the Gateways page: the tenant's recordings (language, prompt,
type, length), an upload form (a .wav or .mp3 file, checked by services/voice_prompts.py)
and "delete" for each. Settings of the tenant: they need settings.write."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from twostep.domain.permissions import Permission
from twostep.domain.voice_prompts import MAX_BYTES
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal.base import Portal, tenant_path

# Ends in /audio: the body limit lets a recording through (interfaces/http/limits.py).
UPLOAD = "/admin/tenants/{tenant}/gateways/voice-prompts/audio"
DELETE = "/admin/tenants/{tenant}/gateways/voice-prompts/delete"


class VoicePromptPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        router.add_api_route(UPLOAD, self.upload, methods=["POST"])
        router.add_api_route(DELETE, self.delete, methods=["POST"])

    async def upload(
        self,
        request: Request,
        tenant: str,
        file: Annotated[UploadFile, File()],
        csrf: Annotated[str, Form()] = "",
        language: Annotated[str, Form()] = "",
        prompt: Annotated[str, Form()] = "",
    ) -> Response:
        seat = await run_in_threadpool(self.portal.seat, request, Permission.SETTINGS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        data = await file.read(MAX_BYTES + 1)
        name = file.filename or ""
        prompts = self.portal.app.voice_prompts

        def upload() -> object:
            return prompts.upload(seat.actor, tenant, field(language), field(prompt), name, data)

        done = await run_in_threadpool(self.portal.call, seat, upload)
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "gateways"), "prompt_uploaded")

    def delete(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        language: Annotated[str, Form()] = "",
        prompt: Annotated[str, Form()] = "",
    ) -> Response:
        seat = self.portal.seat(request, Permission.SETTINGS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        prompts = self.portal.app.voice_prompts
        done = self.portal.call(
            seat, lambda: prompts.delete(seat.actor, tenant, field(language), field(prompt))
        )
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "gateways"), "prompt_deleted")
