"""Push channels as models: each kind's fields, and refusals that name ``push.<field>``
with the same words whichever kind refuses."""

from __future__ import annotations

import pytest

from twostep.adapters.gateways.push_channel import parse_channel
from twostep.adapters.gateways.push_fcm import FcmChannel
from twostep.adapters.gateways.push_ntfy import NtfyChannel
from twostep.adapters.gateways.push_registry import CHANNELS, PullChannel
from twostep.adapters.gateways.push_webpush import WebPushChannel
from twostep.domain.errors import InvalidInput


def test_every_push_kind_has_a_channel_model() -> None:
    kinds = {model.model_fields["kind"].annotation.__args__[0] for model in CHANNELS}
    assert kinds == {"pull", "webpush", "ntfy", "fcm"}


def test_a_channel_is_read_without_its_kind() -> None:
    parsed = parse_channel(NtfyChannel, {"url": "https://ntfy.sh/t"}, "ntfy")
    assert (parsed.kind, parsed.url) == ("ntfy", "https://ntfy.sh/t")
    assert parse_channel(PullChannel, {}, "pull").kind == "pull"


@pytest.mark.parametrize(
    ("model", "kind", "channel", "field", "message"),
    [
        (NtfyChannel, "ntfy", {}, "push.url", "a ntfy push channel needs the text field 'url'"),
        (FcmChannel, "fcm", {"token": ""}, "push.token", "needs the text field 'token'"),
        (FcmChannel, "fcm", {"token": 42}, "push.token", "needs the text field 'token'"),
        (FcmChannel, "fcm", {"token": "t" * 4097}, "push.token", "push token is too long"),
        (PullChannel, "pull", {"url": "x"}, "push.url", "a pull push channel has no field 'url'"),
        (
            WebPushChannel,
            "webpush",
            {"kind": "ntfy", "endpoint": "https://p.example/x", "p256dh": "a", "auth": "b"},
            "push.kind",
            "has no field 'kind'",
        ),
    ],
)
def test_refusals_name_the_field(
    model: type, kind: str, channel: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_channel(model, channel, kind)
    assert caught.value.field == field
