"""Custom voice prompts (domain/voice_prompts.py): an admin uploads a tenant's recording
of a prompt in a language; a call to a user of that language plays it instead of
text-to-speech, fetched by the telephony provider from a signed, expiring URL.

The URL (``/v1/prompts/{id}?exp=...&sig=...``) needs no session or key: its signature is
an HMAC of the recording's id and expiry under a key derived from the server's secret key,
checked in constant time, and it lasts ``URL_SECONDS`` (long enough for a call). A
recording replaced or deleted has a new id or none, so an old URL plays nothing.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import quote

from twostep.domain.entities import AdminKey
from twostep.domain.errors import Forbidden, InvalidInput, VoicePromptNotFound
from twostep.domain.permissions import Permission, allows
from twostep.domain.voice_prompts import (
    Prompt,
    VoicePrompt,
    checked,
    language_tag,
    prompt_name,
)
from twostep.services import admin_log
from twostep.services.admin import tenant_for
from twostep.services.context import Deps

URL_SECONDS = 900  # a call lasts at most voice_timeout (600 s) and its answers a little more
_CONTEXT = "voice-prompt-url"
_ID = re.compile(r"[0-9a-f]{32}")


class VoicePrompts:
    def __init__(self, deps: Deps, public_url: str) -> None:
        self.deps = deps
        self.public_url = public_url.rstrip("/")

    # -- admins ------------------------------------------------------------------------

    def upload(
        self,
        actor: AdminKey,
        tenant_name: str,
        language: str,
        prompt: str,
        filename: str,
        data: bytes,
    ) -> VoicePrompt:
        """Check the audio (type, size, duration: domain/voice_prompts.py) and store it in
        place of the tenant's recording of that prompt and language."""
        _may(actor, Permission.SETTINGS_WRITE)
        tag, name = language_tag(language), prompt_name(prompt)
        audio = checked(filename, data)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            before = tx.voice_prompts.find(tenant.id, tag, name)
            stored = VoicePrompt(
                tenant_id=tenant.id,
                language=tag,
                prompt=name,
                id=secrets.token_hex(16),
                media_type=audio.media_type,
                seconds=audio.seconds,
                size=len(data),
                created_at=now,
            )
            tx.voice_prompts.put(stored, data)
            changed = admin_log.changes(_summary(before), _summary(stored))
            admin_log.record(
                tx, self.deps, actor, tenant, "voice_prompt.upload", f"{tag}/{name}", changed
            )
        return stored

    def list(self, actor: AdminKey, tenant_name: str) -> list[VoicePrompt]:
        _may(actor, Permission.SETTINGS_READ)
        with self.deps.storage.transaction() as tx:
            return list(tx.voice_prompts.for_tenant(tenant_for(tx, actor, tenant_name).id))

    def delete(self, actor: AdminKey, tenant_name: str, language: str, prompt: str) -> None:
        _may(actor, Permission.SETTINGS_WRITE)
        tag, name = language_tag(language), prompt_name(prompt)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            before = tx.voice_prompts.find(tenant.id, tag, name)
            if before is None or not tx.voice_prompts.delete(tenant.id, tag, name):
                raise VoicePromptNotFound(f"no {name} prompt in {tag}")
            changed = admin_log.changes(_summary(before), None)
            admin_log.record(
                tx, self.deps, actor, tenant, "voice_prompt.delete", f"{tag}/{name}", changed
            )

    # -- calls -------------------------------------------------------------------------

    def audio_url(self, tenant_id: int, language: str, prompt: Prompt) -> str | None:
        """The signed URL of the tenant's recording of ``prompt`` in ``language`` (a BCP
        47 tag: its base counts), or None when it has none."""
        try:
            tag = language_tag(language)
        except InvalidInput:
            return None
        with self.deps.storage.transaction() as tx:
            found = tx.voice_prompts.find(tenant_id, tag, prompt)
        if found is None:
            return None
        expires = int(self.deps.clock.now()) + URL_SECONDS
        signature = self._signature(found.id, expires)
        return f"{self.public_url}/v1/prompts/{quote(found.id)}?exp={expires}&sig={signature}"

    def fetch(self, prompt_id: str, expires: str, signature: str) -> tuple[str, bytes]:
        """The recording a signed URL names, while it has not expired: its media type and
        audio. Anything else is not found (a wrong, expired or replaced URL alike)."""
        missing = VoicePromptNotFound("no such prompt, or its link has expired")
        if not (_ID.fullmatch(prompt_id) and expires.isascii() and expires.isdigit()):
            raise missing
        if len(expires) > 12 or int(expires) <= self.deps.clock.now():
            raise missing
        expected = self._signature(prompt_id, int(expires))
        if not (signature.isascii() and hmac.compare_digest(expected.encode(), signature.encode())):
            raise missing
        with self.deps.storage.transaction() as tx:
            found = tx.voice_prompts.audio(prompt_id)
        if found is None:
            raise missing
        prompt, audio = found
        return prompt.media_type, audio

    def _signature(self, prompt_id: str, expires: int) -> str:
        return self.deps.secrets.digest(f"{prompt_id}:{expires}".encode(), _CONTEXT).hex()


def _summary(prompt: VoicePrompt | None) -> dict[str, object] | None:
    """What the admin audit trail records of a recording (never its audio)."""
    if prompt is None:
        return None
    return {"media_type": prompt.media_type, "seconds": prompt.seconds, "size": prompt.size}


def _may(actor: AdminKey, permission: Permission) -> None:
    if not allows(actor.role, permission):
        raise Forbidden(f"this role may not {permission.value}")
