"""The gateway kinds Twostep knows: a new kind is one module and one line in ``_SPECS``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twostep.adapters.gateways import http, outbox, smtp, twilio
from twostep.adapters.gateways.common import GatewaySpec
from twostep.domain.delivery import Gateway
from twostep.domain.errors import InvalidSetting

_SPECS: tuple[GatewaySpec, ...] = (
    outbox.SPEC,
    http.SPEC,
    smtp.SPEC,
    twilio.SPEC,
)


class GatewayRegistry:
    """Implements :class:`twostep.domain.delivery.GatewayFactory`."""

    def __init__(self, specs: tuple[GatewaySpec, ...] = _SPECS) -> None:
        self._specs = {spec.kind: spec for spec in specs}

    def kinds(self) -> frozenset[str]:
        return frozenset(self._specs)

    def check(self, kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        return self._spec(kind).check(settings)

    def secret_fields(self, kind: str) -> frozenset[str]:
        return self._spec(kind).secret_fields

    def build(self, kind: str, name: str, settings: Mapping[str, Any]) -> Gateway:
        spec = self._spec(kind)
        # Checked again: stored settings may predate a default, and constructors trust types.
        return spec.build(name, spec.check(settings))

    def _spec(self, kind: str) -> GatewaySpec:
        try:
            return self._specs[kind]
        except KeyError:
            known = ", ".join(sorted(self._specs))
            raise InvalidSetting(
                f"unknown gateway kind {kind!r}; known: {known}", field="kind"
            ) from None
