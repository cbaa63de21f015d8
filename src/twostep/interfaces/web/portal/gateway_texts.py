"""The gateway forms' words for the catalogs: each setting's label and its help.

* The help is the setting's ``description`` in its kind's settings model
  (adapters/gateways/*), the same words ``/openapi.json`` shows: written once, there. This
  Babel extractor (babel.cfg's ``[extractors]``) puts every kind's descriptions in
  messages.pot, so a new setting's help reaches the catalogs by ``make messages`` and the
  catalog test fails until it has its Korean translation.
* The label is ``LABELS``' entry for the setting's name: the models name their settings for
  the API (``account_sid``), not for people. A setting's name means the same in every kind
  (``timeout``, ``username``), so one entry serves them all; the form still shows the name
  itself beside the label, as the API and the operator guide spell it. A test checks that
  every setting of every kind has an entry and a description.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.interfaces.web.texts import N_

LABELS = {
    # Shared by several kinds.
    "timeout": N_("Timeout in seconds"),
    "username": N_("User name"),
    "password": N_("Password"),
    "webhook_secret": N_("Webhook secret"),
    # http: a generic SMS API.
    "url": N_("Send URL"),
    "method": N_("HTTP method"),
    "headers": N_("Request headers"),
    "body_format": N_("Body format"),
    "body": N_("Body template"),
    "sender": N_("Sender"),
    "api_key": N_("API key"),
    "success_status": N_("Success statuses"),
    "success_field": N_("Success field"),
    "success_value": N_("Success value"),
    "id_field": N_("Message ID field"),
    "inbound_from_field": N_("Reply sender field"),
    "inbound_text_field": N_("Reply text field"),
    "inbound_id_field": N_("Reply ID field"),
    # outbox: the development file.
    "path": N_("Outbox file"),
    # smtp: an email relay.
    "host": N_("Relay host"),
    "port": N_("Port"),
    "security": N_("Connection security"),
    "from_address": N_("From address"),
    "mode": N_("Mode"),
    "subject": N_("Subject"),
    "sms_address": N_("Email-to-SMS address"),
    "ca_file": N_("CA bundle"),
    # twilio.
    "account_sid": N_("Account SID"),
    "auth_token": N_("Auth token"),
    "from_number": N_("From number"),
    "messaging_service_sid": N_("Messaging service SID"),
    "api_base": N_("REST endpoint"),
}


def label(name: str) -> str:
    """The setting's label (its name itself for one ``LABELS`` lacks: the test forbids it)."""
    return LABELS.get(name, name)


def helps(registry: GatewayRegistry | None = None) -> dict[tuple[str, str], str]:
    """Each (kind, setting)'s description, as the kind's settings model declares it."""
    found = registry or GatewayRegistry()
    return {
        (kind, name): info.description or ""
        for kind in sorted(found.kinds())
        for name, info in found.settings_model(kind).model_fields.items()
    }


def extract(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface; the file (adapters/gateways/registry.py) is the trigger
    only: the descriptions come from the kinds' models themselves, as the form reads them."""
    for description in helps().values():
        if description:
            yield 1, None, description, []
