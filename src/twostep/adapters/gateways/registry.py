"""The gateway kinds Twostep knows: a new kind is one module and one line in ``_MODULES``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from twostep.adapters.gateways.common import GatewaySettings, GatewaySpec
from twostep.domain.delivery import Capability, Gateway
from twostep.domain.errors import InvalidSetting

# kind -> the module whose SPEC serves it. Modules load on first use, and a provider's
# library (twilio's costs ~18 MiB) only when a gateway of its kind is built; a kind whose
# library is missing names its extra (pip install 'twostep[EXTRA]').
_MODULES = {
    "outbox": "twostep.adapters.gateways.outbox",
    "http": "twostep.adapters.gateways.http",
    "smtp": "twostep.adapters.gateways.smtp",
    "twilio": "twostep.adapters.gateways.twilio",
}


class GatewayRegistry:
    """Implements :class:`twostep.domain.delivery.GatewaySpecs` and ``GatewayBuilder``."""

    def __init__(self, modules: Mapping[str, str] = _MODULES) -> None:
        self._modules = dict(modules)
        self._specs: dict[str, GatewaySpec[Any]] = {}

    def kinds(self) -> frozenset[str]:
        return frozenset(self._modules)

    def check(self, kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.spec(kind)
        spec.check_libraries()
        return spec.check(settings)

    def secret_fields(self, kind: str) -> frozenset[str]:
        return self.spec(kind).secret_fields

    def capabilities(self, kind: str) -> frozenset[Capability]:
        return self.spec(kind).can

    def settings_model(self, kind: str) -> type[GatewaySettings]:
        """The kind's settings as a pydantic model (the API describes them with it)."""
        return self.spec(kind).settings

    def build(self, kind: str, name: str, settings: Mapping[str, Any]) -> Gateway:
        # Checked again: stored settings may predate a default, and constructors trust types.
        return self.spec(kind).gateway(name, settings)

    def spec(self, kind: str) -> GatewaySpec[Any]:
        spec = self._specs.get(kind)
        if spec is None:
            module = self._modules.get(kind)
            if module is None:
                known = ", ".join(sorted(self._modules))
                raise InvalidSetting(f"unknown gateway kind {kind!r}; known: {known}", field="kind")
            spec = self._specs[kind] = importlib.import_module(module).SPEC
            assert isinstance(spec, GatewaySpec) and spec.kind == kind
        return spec
