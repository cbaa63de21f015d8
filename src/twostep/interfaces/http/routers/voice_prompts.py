"""Custom voice prompts: a tenant's recordings, uploaded, listed and deleted by admins
(services/voice_prompts.py); and the signed, expiring URL the telephony provider fetches
a recording from during a call (no key: the signature is the credential)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from twostep.domain.voice_prompts import MAX_BYTES, VoicePrompt
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors

router = APIRouter(tags=["voice prompts"])
BASE = "/v1/tenants/{tenant}/voice-prompts"


class VoicePromptOut(BaseModel):
    language: str = Field(description="the language it is played to (a base tag: en, de)")
    prompt: str = Field(
        description="greeting, pin_greeting, fraud, retry, extension, success, denied or activation"
    )
    media_type: str = Field(description="audio/wav or audio/mpeg")
    seconds: float
    size: int = Field(description="bytes")
    uploaded_at: str

    @classmethod
    def of(cls, prompt: VoicePrompt) -> VoicePromptOut:
        at = datetime.fromtimestamp(prompt.created_at, UTC).isoformat(timespec="seconds")
        return cls(
            language=prompt.language,
            prompt=prompt.prompt,
            media_type=prompt.media_type,
            seconds=prompt.seconds,
            size=prompt.size,
            uploaded_at=at.replace("+00:00", "Z"),
        )


@router.get(BASE, response_model=list[VoicePromptOut], name="voice_prompt.list")
def list_voice_prompts(tenant: str, app: AppDep, actor: AdminDep) -> list[VoicePromptOut]:
    return [VoicePromptOut.of(p) for p in app.voice_prompts.list(actor, tenant)]


@router.put(
    BASE + "/{language}/{prompt}/audio",
    response_model=VoicePromptOut,
    name="voice_prompt.upload",
    responses=errors(413),
)
async def upload_voice_prompt(
    tenant: str,
    language: str,
    prompt: str,
    app: AppDep,
    actor: AdminDep,
    file: Annotated[
        UploadFile,
        File(
            description=f"A .wav (PCM) or .mp3 recording of at most {MAX_BYTES:,} bytes, "
            "lasting under 20 seconds; its name's extension must match its content"
        ),
    ],
) -> VoicePromptOut:
    data = await file.read(MAX_BYTES + 1)
    name = file.filename or ""
    stored = await run_in_threadpool(
        app.voice_prompts.upload, actor, tenant, language, prompt, name, data
    )
    return VoicePromptOut.of(stored)


@router.delete(BASE + "/{language}/{prompt}", status_code=204, name="voice_prompt.delete")
def delete_voice_prompt(
    tenant: str, language: str, prompt: str, app: AppDep, actor: AdminDep
) -> Response:
    app.voice_prompts.delete(actor, tenant, language, prompt)
    return Response(status_code=204)


@router.get(
    "/v1/prompts/{prompt_id}",
    name="voice_prompt.play",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}, "audio/mpeg": {}}}},
)
def play_voice_prompt(
    prompt_id: str,
    app: AppDep,
    exp: Annotated[str, Query(max_length=12)] = "",
    sig: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    """The recording a call plays, for the telephony provider: the URL's signature and
    expiry are the credential (a wrong or expired one is not found)."""
    media_type, audio = app.voice_prompts.fetch(prompt_id[:64], exp, sig)
    return Response(audio, media_type=media_type, headers={"Cache-Control": "private, max-age=600"})
