"""A worker started by the supervisor to replace one that died (``keeper.py``).

The workers ``serve`` starts are forked from the preloaded interpreter; once they are
forked the supervisor is a small program of its own with nothing left to fork from, so a
replacement starts here, in a fresh interpreter: it reads the configuration ``serve``
built (flags included: it reads no environment or file of its own) from the memory file
the supervisor passed on, logs as ``serve`` does, builds its own app and serves.

    python -P -m twostep.interfaces.http.respawn <config fd> scheduler|worker <supervisor pid>
"""

from __future__ import annotations

import os
import pickle
import sys

from twostep.adapters import logs
from twostep.config import Config


def read_handed_over(fd: int) -> tuple[Config, bool]:
    """The (configuration, access log) ``prefork.hand_over`` wrote to memory file ``fd``."""
    size = os.fstat(fd).st_size
    data = bytearray()
    while len(data) < size:
        chunk = os.pread(fd, size - len(data), len(data))
        if not chunk:
            break
        data += chunk
    # Written by this server's own supervisor into a file only its processes can reach.
    config, access_log = pickle.loads(bytes(data))  # noqa: S301
    if not isinstance(config, Config) or not isinstance(access_log, bool):
        raise TypeError("the handed-over configuration is not one")
    return config, access_log


def main(argv: list[str]) -> int:
    fd, role, supervisor = int(argv[1]), argv[2], int(argv[3])
    config, access_log = read_handed_over(fd)
    os.close(fd)
    logs.configure(config.server.log_level, config.server.log_format, config.server.node_name)
    from twostep.interfaces.http import prefork

    return prefork.run_worker(config, access_log, None, role == "scheduler", supervisor)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
