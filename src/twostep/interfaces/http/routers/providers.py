"""Providers, their statements, tenants' licenses and integrations' activation (issue 15)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from twostep.domain.billing import BillingModel, Provider
from twostep.interfaces.billing_rows import statement_body, write_csv
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import TENANT_NAME, Strict
from twostep.services.licenses import Licenses

router = APIRouter(tags=["providers and billing"])

Model = Literal["per_user", "per_authentication"]
ProviderId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]{1,32}$")]


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ProviderBody(Strict):
    name: str = Field(min_length=1, max_length=128)
    billing_model: Model = Field(description="fixed at creation: it never changes")
    tenant: str | None = Field(default=None, pattern=TENANT_NAME, description="linked tenant")
    time_zone: str = Field(
        default="UTC", min_length=1, max_length=64, description="IANA zone of billing months"
    )


class ProviderChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    billing_model: Model | None = Field(
        default=None, description="refused with billing_model_immutable unless unchanged"
    )
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)


class ProviderOut(BaseModel):
    id: str
    name: str
    billing_model: str
    tenant: str | None
    time_zone: str
    created_at: str
    deleted_at: str | None

    @classmethod
    def of(cls, provider: Provider) -> ProviderOut:
        return cls(
            id=provider.id,
            name=provider.name,
            billing_model=provider.billing_model.value,
            tenant=provider.tenant,
            time_zone=provider.time_zone,
            created_at=_iso(provider.created_at) or "",
            deleted_at=_iso(provider.deleted_at),
        )


@router.post(
    "/v1/providers",
    response_model=ProviderOut,
    status_code=201,
    name="provider.create",
    responses=errors(403, 404, 409),
)
def create(body: ProviderBody, app: AppDep, actor: AdminDep) -> ProviderOut:
    made = app.providers.create(
        actor, body.name, BillingModel(body.billing_model), body.tenant, body.time_zone
    )
    return ProviderOut.of(made)


@router.get("/v1/providers", response_model=list[ProviderOut])
def list_providers(app: AppDep, actor: AdminDep, deleted: bool = False) -> list[ProviderOut]:
    return [ProviderOut.of(p) for p in app.providers.list(actor, deleted=deleted)]


@router.get("/v1/providers/{provider}", response_model=ProviderOut, responses=errors(404))
def get(provider: ProviderId, app: AppDep, actor: AdminDep) -> ProviderOut:
    return ProviderOut.of(app.providers.get(actor, provider))


@router.patch(
    "/v1/providers/{provider}",
    response_model=ProviderOut,
    name="provider.update",
    responses=errors(403, 404, 409),
)
def change(provider: ProviderId, body: ProviderChange, app: AppDep, actor: AdminDep) -> ProviderOut:
    model = BillingModel(body.billing_model) if body.billing_model else None
    changed = app.providers.update(
        actor, provider, name=body.name, billing_model=model, time_zone=body.time_zone
    )
    return ProviderOut.of(changed)


@router.delete(
    "/v1/providers/{provider}",
    status_code=204,
    name="provider.delete",
    responses=errors(403, 404),
)
def delete(provider: ProviderId, app: AppDep, actor: AdminDep) -> Response:
    app.providers.delete(actor, provider)
    return Response(status_code=204)


@router.get(
    "/v1/providers/{provider}/statements/{month}",
    responses={200: {"content": {"text/csv": {}}}, **errors(404)},
)
def statement(
    provider: ProviderId,
    month: Annotated[str, Path(min_length=7, max_length=7, description="YYYY-MM")],
    request: Request,
    app: AppDep,
    actor: AdminDep,
) -> Response:
    """The month's billable units (``Accept: text/csv`` for CSV)."""
    found = app.billing.statement(actor, provider, month)
    if "text/csv" in request.headers.get("accept", ""):
        buffer = io.StringIO()
        write_csv(buffer, found)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse(statement_body(found))


# -- licenses ---------------------------------------------------------------------------


class LicensesOut(BaseModel):
    tenant: str
    held: int
    assigned: int

    @classmethod
    def of(cls, licenses: Licenses) -> LicensesOut:
        return cls(tenant=licenses.tenant, held=licenses.held, assigned=licenses.assigned)


class LicensesBody(Strict):
    held: int = Field(ge=0, le=10_000_000)


@router.get("/v1/tenants/{tenant}/licenses", response_model=LicensesOut, responses=errors(403, 404))
def licenses(tenant: str, app: AppDep, actor: AdminDep) -> LicensesOut:
    return LicensesOut.of(app.licenses.get(actor, tenant))


@router.put(
    "/v1/tenants/{tenant}/licenses",
    response_model=LicensesOut,
    name="licenses.update",
    responses=errors(403, 404, 409),
)
def set_licenses(tenant: str, body: LicensesBody, app: AppDep, actor: AdminDep) -> LicensesOut:
    return LicensesOut.of(app.licenses.set_held(actor, tenant, body.held))


@router.put(
    "/v1/tenants/{tenant}/users/{user}/license",
    response_model=LicensesOut,
    name="license.assign",
    responses=errors(403, 404, 409),
)
def assign(tenant: str, user: str, app: AppDep, actor: AdminDep) -> LicensesOut:
    return LicensesOut.of(app.licenses.assign(actor, tenant, user))


@router.delete(
    "/v1/tenants/{tenant}/users/{user}/license",
    response_model=LicensesOut,
    name="license.unassign",
    responses=errors(403, 404),
)
def unassign(tenant: str, user: str, app: AppDep, actor: AdminDep) -> LicensesOut:
    return LicensesOut.of(app.licenses.unassign(actor, tenant, user))


# -- activation ---------------------------------------------------------------------------


class IntegrationActivationOut(BaseModel):
    code: str
    password: str
    integration: str
    tenant: str
    provider: str
    expires_at: str


@router.post(
    "/v1/tenants/{tenant}/integrations/{name}/activations",
    response_model=IntegrationActivationOut,
    status_code=201,
    name="integration.activation",
    responses=errors(403, 404, 409),
)
def new_activation(
    tenant: str, name: str, app: AppDep, actor: AdminDep
) -> IntegrationActivationOut:
    """Activation credentials for the integration, valid 10 minutes, shown once."""
    made = app.activations.generate(actor, tenant, name)
    return IntegrationActivationOut(
        code=made.code,
        password=made.password,
        integration=made.integration,
        tenant=made.tenant,
        provider=made.provider,
        expires_at=_iso(made.expires_at) or "",
    )


class IntegrationActivateBody(Strict):
    code: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=64)


class ActivatedOut(BaseModel):
    key: str | None = Field(
        description="the integration's new key, shown once; null for a RADIUS client's "
        "integration (its NAS keeps its shared secret)"
    )
    integration: str
    tenant: str


@router.post(
    "/v1/activations",
    response_model=ActivatedOut,
    responses=errors(404),
)
def activate(body: IntegrationActivateBody, request: Request, app: AppDep) -> ActivatedOut:
    """Exchange activation credentials once for the integration's new key (shown once).
    No credentials: the activation code is one."""
    client = request.client.host if request.client else None
    done = app.activations.exchange(body.code, body.password, client_ip=client)
    return ActivatedOut(key=done.key, integration=done.integration, tenant=done.tenant)
