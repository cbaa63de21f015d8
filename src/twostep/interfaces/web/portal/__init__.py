"""The management portal's pages (``/admin``), on the pages' foundation (``admin.AdminPages``
signs in and guards; ``pages.Pages`` renders). One module per page set, each calling the
services with the signed-in admin as the actor (interface ``web``):

* ``dashboard``: ``/admin`` (and ``/admin/tenants/<t>``), ``/admin/tenants`` (the switch).
* ``users``: ``/admin/tenants/<t>/users[/<user>[/<action>]]``.
* ``tokens``: ``/admin/tenants/<t>/tokens[/import]``.
* ``integrations``: ``/admin/tenants/<t>/integrations[/revoke|/radius[/delete]]``.
* ``gateways``: ``/admin/tenants/<t>/gateways[/delete]``.
* ``settings``: ``/admin/tenants/<t>/settings``.
* ``audit``: ``/admin/tenants/<t>/audit[.csv]``, ``/admin/tenants/<t>/admin-audit[.csv]``.
* ``reports``: ``/admin/tenants/<t>/reports[/statement.csv]``, ``/admin/reports`` (every
  tenant: a global admin).

``base.Portal.seat`` checks the form token of every POST and the role's permission
(domain/permissions.py) of every page and action; the services check the tenant.
"""

from __future__ import annotations

from fastapi import APIRouter

from twostep.interfaces.web.admin import AdminPages
from twostep.interfaces.web.portal.audit import AuditPages
from twostep.interfaces.web.portal.base import Portal
from twostep.interfaces.web.portal.dashboard import DashboardPages
from twostep.interfaces.web.portal.gateways import GatewayPages
from twostep.interfaces.web.portal.integrations import IntegrationPages
from twostep.interfaces.web.portal.reports import ReportPages
from twostep.interfaces.web.portal.settings import SettingsPages
from twostep.interfaces.web.portal.tokens import TokenPages
from twostep.interfaces.web.portal.users import UserPages
from twostep.interfaces.web.portal.voice_prompts import VoicePromptPages


def routes(router: APIRouter, admin: AdminPages) -> None:
    portal = Portal(admin)
    for pages in (
        DashboardPages(portal),
        UserPages(portal),
        TokenPages(portal),
        IntegrationPages(portal),
        GatewayPages(portal),
        VoicePromptPages(portal),
        SettingsPages(portal),
        AuditPages(portal),
        ReportPages(portal),
    ):
        pages.routes(router)
