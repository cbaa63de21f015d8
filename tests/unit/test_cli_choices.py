"""The CLI's fixed words (plain strings, so `--help` imports no model) are the domain's."""

from __future__ import annotations

from twostep.domain.entities import MfaState, RadiusMode, RadiusPrimary, Role
from twostep.factors import registry
from twostep.factors.oath_token import MAX_COUNTER
from twostep.interfaces.cli import choices
from twostep.services.admin import DEFAULT_TENANT


def test_the_choices_are_the_enums_values() -> None:
    assert tuple(s.value for s in MfaState) == choices.MFA_STATES
    assert tuple(r.value for r in Role) == choices.GRANT_ROLES
    assert set(choices.KEY_ROLES) == set(choices.GRANT_ROLES) - {Role.HELP_DESK.value}
    assert tuple(m.value for m in RadiusMode) == choices.RADIUS_MODES
    assert tuple(p.value for p in RadiusPrimary) == choices.RADIUS_PRIMARIES


def test_the_method_kinds_are_the_registrys_enrollable_ones() -> None:
    assert tuple(k.kind.value for k in registry.enrollable()) == choices.METHOD_KINDS


def test_the_constants_are_the_services_and_factors() -> None:
    assert DEFAULT_TENANT == choices.DEFAULT_TENANT
    assert MAX_COUNTER == choices.MAX_COUNTER


def test_the_directory_attributes_are_the_attribute_maps_fields() -> None:
    from twostep.domain.directory import AttributeMap
    from twostep.interfaces.cli.directory_commands import ATTRIBUTES

    assert {*ATTRIBUTES, "user_id"} == set(AttributeMap.model_fields)
