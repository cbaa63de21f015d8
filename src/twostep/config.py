"""Typed settings from the environment, with defaults and one validator per section."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from twostep.domain.errors import InvalidSetting


@dataclass(frozen=True, slots=True)
class StorageConfig:
    home: Path
    database_url: str
    secret_key: str | None  # hex keys, current first, comma-separated; else the key file
    # Run validations' database calls on the event loop (no thread hop)? None: when the
    # database is SQLite or on this host, where a call takes well under a millisecond.
    db_inline: bool | None = None

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

    def validate(self) -> None:
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise InvalidSetting("TWOSTEP_DATABASE_URL must be a sqlite:// or postgresql URL")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str
    port: int
    workers: int
    node_name: str
    node_ip: str | None
    log_level: str
    # The base URL providers and devices reach this server at (webhooks, activation links).
    public_url: str = ""

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise InvalidSetting("the port must be 1-65535")
        if not 1 <= self.workers <= 64:
            raise InvalidSetting("TWOSTEP_WORKERS must be 1-64")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise InvalidSetting("TWOSTEP_PUBLIC_URL must be an http:// or https:// URL")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise InvalidSetting("TWOSTEP_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")


@dataclass(frozen=True, slots=True)
class RadiusConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1812

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise InvalidSetting("TWOSTEP_RADIUS_PORT must be 1-65535")

    @classmethod
    def from_env(cls, env: dict[str, str]) -> RadiusConfig:
        enabled = _flag(env.get("TWOSTEP_RADIUS", "off"), "TWOSTEP_RADIUS")
        if enabled is None:
            raise InvalidSetting("TWOSTEP_RADIUS must be on or off")
        try:
            port = int(env.get("TWOSTEP_RADIUS_PORT", "1812"))
        except ValueError as exc:
            raise InvalidSetting("TWOSTEP_RADIUS_PORT must be an integer") from exc
        radius = cls(enabled, env.get("TWOSTEP_RADIUS_HOST", "127.0.0.1"), port)
        radius.validate()
        return radius


@dataclass(frozen=True, slots=True)
class PushConfig:
    """Push services that wake mobile authenticators (the pull channel needs none)."""

    vapid_subject: str = "mailto:twostep@localhost"  # Web Push: who runs this server
    ntfy_server: str | None = None  # the ntfy server devices may use, with its token
    ntfy_token: str | None = None
    fcm_credentials: Path | None = None  # a Firebase service-account JSON: FCM on
    fcm_endpoint: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str]) -> PushConfig:
        fcm = env.get("TWOSTEP_FCM_CREDENTIALS") or None
        return cls(
            vapid_subject=env.get("TWOSTEP_VAPID_SUBJECT") or "mailto:twostep@localhost",
            ntfy_server=env.get("TWOSTEP_NTFY_SERVER") or None,
            ntfy_token=env.get("TWOSTEP_NTFY_TOKEN") or None,
            fcm_credentials=Path(fcm) if fcm else None,
            fcm_endpoint=env.get("TWOSTEP_FCM_ENDPOINT") or None,
        )


@dataclass(frozen=True, slots=True)
class Config:
    storage: StorageConfig
    server: ServerConfig
    radius: RadiusConfig = RadiusConfig()
    push: PushConfig = PushConfig()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("TWOSTEP_HOME", "data")).resolve()
        storage = StorageConfig(
            home=home,
            database_url=env.get("TWOSTEP_DATABASE_URL") or f"sqlite:///{home / 'twostep.db'}",
            secret_key=env.get("TWOSTEP_SECRET_KEY") or None,
            db_inline=_flag(env.get("TWOSTEP_DB_INLINE", "auto"), "TWOSTEP_DB_INLINE"),
        )
        try:
            port = int(env.get("TWOSTEP_PORT", "8080"))
            workers = int(env.get("TWOSTEP_WORKERS", str(_default_workers(storage))))
        except ValueError as exc:
            raise InvalidSetting("TWOSTEP_PORT and TWOSTEP_WORKERS must be integers") from exc
        server = ServerConfig(
            host=env.get("TWOSTEP_HOST", "127.0.0.1"),
            port=port,
            workers=workers,
            node_name=env.get("TWOSTEP_NODE_NAME") or socket.gethostname(),
            node_ip=env.get("TWOSTEP_NODE_IP") or None,
            log_level=env.get("TWOSTEP_LOG_LEVEL", "INFO"),
            public_url=(env.get("TWOSTEP_PUBLIC_URL") or "").rstrip("/"),
        )
        config = cls(storage, server, RadiusConfig.from_env(env), PushConfig.from_env(env))
        storage.validate()
        server.validate()
        return config


def _flag(value: str, name: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered == "auto":
        return None
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidSetting(f"{name} must be auto, on or off")


def _default_workers(storage: StorageConfig) -> int:
    """One worker per core on SQLite, where writes queue on one lock anyway; two per core
    on PostgreSQL, where a worker waiting on a round trip would leave its core idle."""
    cores = os.cpu_count() or 1
    return cores if storage.database_url.startswith("sqlite") else min(2 * cores, 64)
