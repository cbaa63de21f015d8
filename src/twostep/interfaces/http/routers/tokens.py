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
from twostep.interfaces.token_files import ImportOptions, import_file

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
    valid_from: float | None = Field(
        None, description="Start of the validity period the vendor set (epoch seconds)"
    )
    valid_until: float | None = Field(
        None,
        description="End of the validity period the vendor set (epoch seconds): past it, "
        "sign-ins with this token answer token_expired",
    )

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
            valid_from=token.valid_from,
            valid_until=token.valid_until,
        )


class ImportOut(BaseModel):
    imported: int
    replaced: int
    assigned: int
    by_type: dict[str, int]
    by_manufacturer: dict[str, int]
    layout: str | None = Field(None, description="The file's layout, as read")
    skipped: list[str] = Field(
        default_factory=list,
        description="Keys or rows the file holds that Twostep does not use (a PIN key, a "
        "Yubico OTP slot), each with its place in the file",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What the operator should check: tokens already expired or expiring "
        "within 30 days, assumptions the layout forced, renamed serials",
    )


class AssignBody(Strict):
    user: str = Field(min_length=1, max_length=256)


@router.post("/import", response_model=ImportOut, name="token.import")
async def import_tokens(
    tenant: str,
    app: AppDep,
    actor: AdminDep,
    file: Annotated[
        UploadFile,
        File(
            description="A PSKC (RFC 6030), CSV, oathcsv or YubiKey Personalization Tool "
            "file; its layout is read from its content"
        ),
    ],
    format: Annotated[
        Literal["pskc", "csv", "oathcsv", "yubico"] | None,
        Form(description="The file's layout, when its content should not decide"),
    ] = None,
    key: Annotated[
        Text | None, Form(description="PSKC pre-shared key, hex", max_length=128)
    ] = None,
    password: Annotated[Text | None, Form(description="PSKC password", max_length=1024)] = None,
    update: Annotated[bool, Form()] = False,
    refuse_expiring: Annotated[
        bool, Form(description="Refuse the file if a token is expired or expires within 30 days")
    ] = False,
    plaintext_mac: Annotated[
        bool,
        Form(
            description="Accept a PSKC file whose MACs are over the plaintext (drafts before "
            "RFC 6030), if they verify"
        ),
    ] = False,
    no_mac: Annotated[
        bool, Form(description="Accept a PSKC file whose encrypted values have no MAC")
    ] = False,
) -> ImportOut:
    data = await file.read()
    options = ImportOptions(
        fmt=format,
        key_hex=key,
        password=password,
        update=update,
        refuse_expiring=refuse_expiring,
        plaintext_mac=plaintext_mac,
        no_mac=no_mac,
    )
    summary = await run_in_threadpool(lambda: import_file(app, actor, tenant, data, options))
    return ImportOut(
        imported=summary.imported,
        replaced=summary.replaced,
        assigned=summary.assigned,
        by_type=summary.by_type,
        by_manufacturer=summary.by_manufacturer,
        layout=summary.layout,
        skipped=list(summary.skipped),
        warnings=list(summary.warnings),
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
