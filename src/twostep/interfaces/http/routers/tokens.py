"""Hardware tokens: multipart import (all or nothing), the pool, assignment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from twostep.domain.entities import Method
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.json_text import Text
from twostep.interfaces.http.schemas import ResyncBody, Strict
from twostep.interfaces.token_files import import_file

router = APIRouter(prefix="/v1/tenants/{tenant}/tokens", tags=["tokens"])


class TokenOut(BaseModel):
    serial: str | None
    otp_type: str | None
    algorithm: str | None
    digits: int | None
    period: int | None
    manufacturer: str | None
    model: str | None
    status: str
    assigned: bool

    @classmethod
    def of(cls, token: Method) -> TokenOut:
        otp = token.otp
        return cls(
            serial=token.serial,
            otp_type=otp.type.value if otp else None,
            algorithm=otp.algorithm.value if otp else None,
            digits=otp.digits if otp else None,
            period=otp.period if otp else None,
            manufacturer=token.manufacturer,
            model=token.model,
            status=token.status.value,
            assigned=token.user_id is not None,
        )


class ImportOut(BaseModel):
    imported: int
    replaced: int
    assigned: int
    by_type: dict[str, int]
    by_manufacturer: dict[str, int]


class AssignBody(Strict):
    user: str = Field(min_length=1, max_length=256)


@router.post("/import", response_model=ImportOut, name="token.import")
async def import_tokens(
    tenant: str,
    app: AppDep,
    actor: AdminDep,
    file: Annotated[UploadFile, File(description="A PSKC (RFC 6030) or CSV file")],
    format: Annotated[Literal["pskc", "csv"] | None, Form()] = None,
    key: Annotated[
        Text | None, Form(description="PSKC pre-shared key, hex", max_length=128)
    ] = None,
    password: Annotated[Text | None, Form(description="PSKC password", max_length=1024)] = None,
    update: Annotated[bool, Form()] = False,
) -> ImportOut:
    data = await file.read()
    kind = format or ("csv" if (file.filename or "").lower().endswith(".csv") else "pskc")

    summary = await run_in_threadpool(
        lambda: import_file(
            app, actor, tenant, data, fmt=kind, key_hex=key, password=password, update=update
        )
    )
    return ImportOut(
        imported=summary.imported,
        replaced=summary.replaced,
        assigned=summary.assigned,
        by_type=summary.by_type,
        by_manufacturer=summary.by_manufacturer,
    )


@router.get("", response_model=list[TokenOut])
def list_tokens(
    tenant: str,
    app: AppDep,
    actor: AdminDep,
    assigned: bool | None = None,
    manufacturer: Annotated[str | None, Query(max_length=64)] = None,
    serial_prefix: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TokenOut]:
    found = app.tokens.list(
        actor,
        tenant,
        assigned=assigned,
        manufacturer=manufacturer,
        serial_prefix=serial_prefix,
        after=after,
        limit=limit,
    )
    return [TokenOut.of(t) for t in found]


@router.post("/{serial}/assign", response_model=TokenOut, name="token.assign")
def assign(tenant: str, serial: str, body: AssignBody, app: AppDep, actor: AdminDep) -> TokenOut:
    return TokenOut.of(app.tokens.assign(actor, tenant, serial, body.user))


@router.post("/{serial}/unassign", response_model=TokenOut, name="token.unassign")
def unassign(tenant: str, serial: str, app: AppDep, actor: AdminDep) -> TokenOut:
    return TokenOut.of(app.tokens.unassign(actor, tenant, serial))


@router.post("/{serial}/lost", response_model=TokenOut, name="token.lost")
def lost(tenant: str, serial: str, app: AppDep, actor: AdminDep) -> TokenOut:
    return TokenOut.of(app.tokens.mark_lost(actor, tenant, serial))


@router.post("/{serial}/resync", response_model=TokenOut, name="token.resync")
def resync(tenant: str, serial: str, body: ResyncBody, app: AppDep, actor: AdminDep) -> TokenOut:
    return TokenOut.of(app.tokens.resync(actor, tenant, serial, body.first_code, body.second_code))


@router.delete("/{serial}", status_code=204, name="token.delete")
def delete(tenant: str, serial: str, app: AppDep, actor: AdminDep) -> Response:
    app.tokens.delete(actor, tenant, serial)
    return Response(status_code=204)
