"""The steering program: the RADIUS Identifier (payload octet 1) modulo the worker count."""

from __future__ import annotations

import pytest

from twostep.interfaces.radius import steering


def test_the_program_returns_the_identifier_modulo_the_workers() -> None:
    load, mod, ret = steering.program(3)
    assert load == (0x30, 0, 0, 1)  # BPF_LD|BPF_B|BPF_ABS: A = payload[1], the Identifier
    assert mod == (0x94, 0, 0, 3)  # BPF_ALU|BPF_MOD|BPF_K: A %= 3
    assert ret == (0x16, 0, 0, 0)  # BPF_RET|BPF_A: the socket's index in the group


@pytest.mark.parametrize("workers", [0, 1, 256])
def test_one_worker_or_more_than_identifiers_is_no_steering(workers: int) -> None:
    with pytest.raises(ValueError, match="2 to 255"):
        steering.program(workers)
