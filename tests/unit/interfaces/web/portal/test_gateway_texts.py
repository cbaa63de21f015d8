"""Every setting of every gateway kind has a label and a help text, both in the catalogs and
translated into Korean: a new kind or setting cannot reach the forms in English only. The
help is the setting's description in its kind's model (written once, there); the Korean
gateway forms show the Korean of both."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.unit.interfaces.web.portal.conftest import SignIn
from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.interfaces.web import i18n
from twostep.interfaces.web.portal import gateway_forms, gateway_texts

REGISTRY = GatewayRegistry()
SETTINGS = [
    (kind, name)
    for kind in sorted(REGISTRY.kinds())
    for name in REGISTRY.settings_model(kind).model_fields
]
HANGUL = re.compile("[\uac00-\ud7a3]")


def korean(message: str) -> str:
    return i18n.translations("ko").gettext(message)


def test_the_kinds_the_pages_offer_are_the_registrys() -> None:
    assert {"http", "outbox", "smtp", "twilio"} <= REGISTRY.kinds()
    assert len(SETTINGS) > 30


@pytest.mark.parametrize(("kind", "name"), SETTINGS)
def test_every_setting_has_a_label_and_a_description(kind: str, name: str) -> None:
    assert name in gateway_texts.LABELS, f"{kind}.{name}: add its label to LABELS"
    assert gateway_texts.helps()[kind, name], f"{kind}.{name}: give it a description"


@pytest.mark.parametrize(("kind", "name"), SETTINGS)
def test_every_label_and_help_has_its_korean(kind: str, name: str) -> None:
    for text in (gateway_texts.LABELS[name], gateway_texts.helps()[kind, name]):
        assert HANGUL.search(korean(text)), f"{text!r}: run make messages, fill in ko"
        assert "%" not in text  # the pages format every message with %: none may hold one


def test_no_label_is_left_over_from_a_setting_that_is_gone() -> None:
    assert set(gateway_texts.LABELS) == {name for _kind, name in SETTINGS}


def test_the_extractor_gives_every_help_to_the_catalogs() -> None:
    extracted = {message for _line, _f, message, _c in gateway_texts.extract(None, [], [], {})}
    assert extracted == set(gateway_texts.helps().values())


def test_the_forms_fields_take_their_label_and_help_from_here(app: App) -> None:
    for kind in sorted(app.gateways.specs.kinds()):
        fields = gateway_forms.fields_of(app.gateways.specs, kind)
        assert fields is not None
        for f in fields:
            assert f.label == gateway_texts.LABELS[f.name]
            assert f.help == gateway_texts.helps()[kind, f.name]


def test_a_label_the_table_lacks_falls_back_to_the_settings_name() -> None:
    assert gateway_texts.label("no_such_setting") == "no_such_setting"


def shown(page: str, element: str, ident: str) -> str:
    """The text of the element with ``ident``, tags dropped, white space folded."""
    found = re.search(rf'<{element}[^>]*(?:for|id)="{ident}"[^>]*>(.*?)</{element}>', page, re.S)
    assert found, ident
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_the_korean_forms_show_korean_labels_and_help(pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.TENANT_ADMIN)
    page = pages.get("/admin/tenants/default/gateways", headers={"Accept-Language": "ko"}).text
    for kind, name in SETTINGS:
        ident = f"{kind}-{name}"
        label, help_ = shown(page, "label", ident), shown(page, "p", f"h-{ident}")
        assert label.startswith(korean(gateway_texts.LABELS[name]) + " " + name), label
        assert help_.startswith(korean(gateway_texts.helps()[kind, name])), help_
        assert gateway_texts.helps()[kind, name] not in help_  # no English left beside it


def test_the_english_forms_show_the_models_words(pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.TENANT_ADMIN)
    page = pages.get("/admin/tenants/default/gateways", headers={"Accept-Language": "en"}).text
    assert shown(page, "label", "twilio-account_sid") == "Account SID account_sid (required)"
    help_ = shown(page, "p", "h-smtp-host")
    assert help_ == REGISTRY.settings_model("smtp").model_fields["host"].description
    # A model's words are text, not markup, though a translation comes back as Markup.
    assert "Twostep &lt;mfa@example.com&gt;" in page
