"""Run the API on several cores: gunicorn's pre-fork master with uvicorn workers.

The master imports the application's modules before it forks, so the workers share
those pages instead of each loading its own copy (``gc.freeze`` keeps the collector
from touching, and so copying, them). Each worker then builds its own database engine
and keyring after the fork: connections must never cross a fork.
"""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication

import twostep.interfaces.http.app as http_app


class TwostepServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return http_app.create_app()


def run(host: str, port: int, workers: int, log_level: str, access_log: bool) -> None:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    gc.collect()
    gc.freeze()
    TwostepServer(
        {
            "bind": bind,
            "workers": workers,
            "worker_class": "uvicorn_worker.UvicornWorker",
            "preload_app": False,
            "loglevel": log_level,
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "graceful_timeout": 10,
            "timeout": 60,
            "keepalive": 75,
            "proc_name": "twostep",
            "control_socket_disable": True,  # no runtime-control socket in $HOME
        }
    ).run()
