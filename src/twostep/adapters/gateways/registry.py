"""The gateway kinds Twostep knows: a new kind is one module and one line in ``_SPECS``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from twostep.adapters.gateways.common import GatewaySpec
from twostep.domain.delivery import Gateway
from twostep.domain.errors import InvalidSetting

# kind -> the module whose SPEC serves it. Modules load on first use: a provider's
# library (twilio's costs ~18 MiB) is paid for only by servers that use it.
_MODULES = {
    "outbox": "twostep.adapters.gateways.outbox",
    "http": "twostep.adapters.gateways.http",
    "smtp": "twostep.adapters.gateways.smtp",
    "twilio": "twostep.adapters.gateways.twilio",
}


class GatewayRegistry:
    """Implements :class:`twostep.domain.delivery.GatewayFactory`."""

    def __init__(self, modules: Mapping[str, str] = _MODULES) -> None:
        self._modules = dict(modules)
        self._specs: dict[str, GatewaySpec] = {}

    def kinds(self) -> frozenset[str]:
        return frozenset(self._modules)

    def check(self, kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        return self._spec(kind).check(settings)

    def secret_fields(self, kind: str) -> frozenset[str]:
        return self._spec(kind).secret_fields

    def build(self, kind: str, name: str, settings: Mapping[str, Any]) -> Gateway:
        spec = self._spec(kind)
        # Checked again: stored settings may predate a default, and constructors trust types.
        return spec.build(name, spec.check(settings))

    def _spec(self, kind: str) -> GatewaySpec:
        spec = self._specs.get(kind)
        if spec is None:
            module = self._modules.get(kind)
            if module is None:
                known = ", ".join(sorted(self._modules))
                raise InvalidSetting(f"unknown gateway kind {kind!r}; known: {known}", field="kind")
            spec = self._specs[kind] = importlib.import_module(module).SPEC
            assert isinstance(spec, GatewaySpec) and spec.kind == kind
        return spec
