"""What a replacement worker reads: the configuration ``serve`` built, flags and secrets
included, from the memory file the supervisor keeps (never from the environment again)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from twostep.config import Config
from twostep.interfaces.http import prefork
from twostep.interfaces.http.respawn import read_handed_over


def test_the_handed_over_configuration_is_the_one_serve_built(tmp_path: Path) -> None:
    config = Config.load(
        {"TWOSTEP_HOME": str(tmp_path), "TWOSTEP_METRICS_TOKEN": "m" * 32},
        flags={"server": {"port": 18443, "workers": 3}},
    )
    fd = prefork.config_file(config, access_log=True)
    try:
        assert os.get_inheritable(fd)  # the keeper and the workers it starts inherit it
        os.lseek(fd, 0, os.SEEK_END)  # a reader elsewhere moved the shared offset: no matter
        read, access_log = read_handed_over(fd)
        assert read == config and access_log is True
        assert read.server.port == 18443 and read.server.workers == 3
        assert read.server.metrics_token is not None
        assert read.server.metrics_token.get_secret_value() == "m" * 32
        assert read_handed_over(fd) == (config, True)  # every replacement reads it whole
    finally:
        os.close(fd)


def test_anything_else_in_the_file_is_refused() -> None:
    fd = os.memfd_create("not-a-config", 0)
    try:
        os.write(fd, pickle.dumps(({"server": {"port": 1}}, False)))
        with pytest.raises(TypeError):
            read_handed_over(fd)
    finally:
        os.close(fd)
