"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute

import twostep
from twostep.adapters.storage.engine import POOL_SIZE
from twostep.bootstrap import App
from twostep.config import Config
from twostep.interfaces.http import errors, hot_routes, metrics, openapi
from twostep.interfaces.http.draining import Draining
from twostep.interfaces.http.limits import BodyLimit
from twostep.interfaces.http.params import TextParams
from twostep.interfaces.http.request_ids import RequestIds
from twostep.interfaces.http.routers import (
    accounts,
    admin_events,
    admin_grants,
    app_passwords,
    audit,
    devices,
    directories,
    enrollment_links,
    gateways,
    health,
    integrations,
    keys,
    methods,
    migrations,
    passwords,
    providers,
    radius_clients,
    remembered_devices,
    reports,
    signin_results,
    tenants,
    tokens,
    users,
    validate,
    voice_prompts,
)
from twostep.interfaces.web import install as install_pages
from twostep.services.directory_scheduler import DirectoryScheduler
from twostep.services.rollups import RollupTimer

log = logging.getLogger("twostep.http")


def create_app(
    app: App | None = None, config: Config | None = None, *, scheduler: bool = False
) -> FastAPI:
    """Build the API over ``app`` (tests pass one), else over ``config`` (``serve`` passes
    its own), else over the environment's (``uvicorn ... --factory``)."""
    wired = app or metrics.build_counted(config or Config.from_env())
    draining = Draining()  # serve starts it on SIGTERM (prefork.py)
    draining.on_start(wired.waits.release_async)  # long-polls answer their current state

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        # As many worker threads as pooled connections: more would only queue for a
        # connection while contending for the GIL.
        to_thread.current_default_thread_limiter().total_tokens = POOL_SIZE
        draining.bind(asyncio.get_running_loop())
        sweep = asyncio.create_task(_sweep_expired(wired))
        # Scheduled directory syncs: in one process per node (serve says which, also of an
        # app it built before forking: state.scheduler, read here, at the start).
        schedules: bool = api.state.scheduler
        syncs = DirectoryScheduler(wired.directory_sync) if schedules else None
        if syncs is not None:
            syncs.start()
        # The usage rollups (TWOSTEP_ROLLUP_INTERVAL; 0: off): in the same one process.
        rollups = RollupTimer(wired.rollups, wired.config.server.rollup_interval)
        if schedules:
            rollups.start()
        # RADIUS (TWOSTEP_RADIUS=on) shares this worker's event loop and wired services.
        radius = None
        if wired.config.radius.enabled:
            # Imported only when on: pyrad and the RADIUS server cost memory in every worker.
            from twostep.interfaces.radius import server as radius_server

            radius = await radius_server.start(wired)
            draining.on_start(radius.drain)
        yield
        sweep.cancel()
        if syncs is not None:
            await asyncio.to_thread(syncs.stop)
        await asyncio.to_thread(rollups.stop)
        if radius is not None:
            await radius.close(draining.left(wired.config.server.shutdown_timeout))
        if app is None:
            wired.close()

    api = FastAPI(
        title="Twostep",
        version=twostep.__version__,
        description=(
            "Self-hosted multi-factor authentication: validate API and admin API. Every error "
            'answers {"error": {"code", "message"}} with a stable code (docs/error-codes.md). '
            "Text anywhere in a request (body, path, query) refuses control characters and "
            "lone surrogates (422 invalid_request)."
        ),
        lifespan=lifespan,
        # FastAPI's OpenTelemetry hooks looked up providers and read os.environ on every
        # request (~4 us of a validation); Twostep exports its own metrics (/metrics).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Swagger UI would load its assets from a CDN, which an on-premises network may
        # not reach: the description itself is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    api.state.twostep = wired
    api.state.draining = draining
    api.state.scheduler = scheduler
    errors.install(api)
    openapi.install(api)
    metrics.install(api)  # /metrics (404 without a metrics token), validate latencies
    routers = [
        module.router
        for module in (
            validate,
            tenants,
            users,
            methods,
            tokens,
            migrations,
            integrations,
            keys,
            audit,
            admin_events,
            gateways,
            devices,
            directories,
            radius_clients,
            passwords,
            accounts,
            app_passwords,
            enrollment_links,
            signin_results,
            admin_grants,
            providers,
            reports,
            remembered_devices,
            voice_prompts,
            health,
        )
    ]
    for router in routers:
        api.include_router(router)
    install_pages(api)  # the pages for people: /admin, /static (interfaces/web/)
    # First in the router: the validation and the probes without FastAPI's request handling
    # (FastAPI's routes behind them describe the API and answer what they decline).
    api.router.routes[:0] = hot_routes.routes(api.router)
    api.add_middleware(BodyLimit)
    templates = [r.path for router in routers for r in router.routes if isinstance(r, APIRoute)]
    api.add_middleware(TextParams, templates=templates)
    api.add_middleware(RequestIds)  # outermost of ours: every answer and log line has an id

    return api


async def _sweep_expired(app: App, every: float = 15.0) -> None:
    """Reject and audit challenges nobody answered in time (any node may do it: the
    conditional update lets one win). Bounded per round; runs until the app stops."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(app.challenges.expire_overdue)
        except Exception:  # the next round tries again
            log.exception("expiring overdue challenges failed")
