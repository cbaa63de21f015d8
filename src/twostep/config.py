"""The server's settings, typed: one pydantic model per section, read by pydantic-settings.

Three layers, highest first: a command-line flag (``serve --port``), a ``TWOSTEP_*``
environment variable, the optional TOML file (``twostep --config FILE`` or
``TWOSTEP_CONFIG``; tables ``[storage]``, ``[server]``, ``[radius]``, ``[push]``), then the
default. Every setting keeps the flat variable name it has always had (``TWOSTEP_PORT``,
not a nested one), so existing deployments keep working.

Anything unknown is refused rather than ignored: a misspelt variable would otherwise leave
a default silently in force. ``python -m twostep.config --markdown``
writes the operator guide's table from the descriptions below.
"""

from __future__ import annotations

import difflib
import json
import os
import socket
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from twostep.domain.errors import InvalidSetting

PREFIX = "TWOSTEP_"
CONFIG_VARIABLE = "TWOSTEP_CONFIG"
# TWOSTEP_* variables that are not server settings, yet no typo either.
NOT_SETTINGS = frozenset({CONFIG_VARIABLE, "TWOSTEP_AUTHENTICATOR_HOME"})
MAX_WORKERS = 64

_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def setting(
    default: Any = None,
    *,
    env: str,
    doc: str,
    allowed: str,
    shown: str | None = None,
    blank_is_unset: bool = False,
    default_factory: Callable[[], Any] | None = None,
    **constraints: Any,
) -> Any:
    """A field with its variable name, its meaning and its allowed values (for the one-line
    refusal). ``blank_is_unset``: an empty variable means the default, as it always has."""
    extra: JsonDict = {
        "env": env,
        "allowed": allowed,
        "shown": shown or ("unset" if default is None else f"`{default}`"),
        "blank_is_unset": blank_is_unset,
    }
    if default_factory is not None:
        return Field(
            default_factory=default_factory, description=doc, json_schema_extra=extra, **constraints
        )
    return Field(default, description=doc, json_schema_extra=extra, **constraints)


def _switch(value: object, *, auto: bool) -> object:
    """on/off (and 1/0, true/false, yes/no) as the variables have always taken them."""
    if not isinstance(value, str):
        return value
    lowered = value.strip().lower()
    if lowered in _ON:
        return True
    if lowered in _OFF:
        return False
    if auto and lowered == "auto":
        return None
    raise ValueError(value)


OnOff = Annotated[bool, BeforeValidator(lambda v: _switch(v, auto=False))]
AutoOnOff = Annotated[bool | None, BeforeValidator(lambda v: _switch(v, auto=True))]


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class StorageConfig(Section):
    home: Path = setting(
        Path("data"),
        env="TWOSTEP_HOME",
        doc="data directory: SQLite database, `secret.key`, `vapid.pem`",
        allowed="a directory path",
        shown="`data` (relative to the current directory)",
    )
    database_url: str = setting(
        "",
        env="TWOSTEP_DATABASE_URL",
        doc="SQLAlchemy URL; must start with `sqlite` or `postgresql` "
        "(use `postgresql+psycopg://...`)",
        allowed="a sqlite:// or postgresql URL",
        shown="`sqlite:///$TWOSTEP_HOME/twostep.db`",
        blank_is_unset=True,
    )
    secret_key: SecretStr | None = setting(
        env="TWOSTEP_SECRET_KEY",
        doc="encryption keys as 64 hex characters each, comma-separated, current first; when "
        "set, the key file is neither read nor created",
        allowed="64 hex characters per key, comma-separated",
        shown="unset: use `$TWOSTEP_HOME/secret.key`",
        blank_is_unset=True,
    )
    # Run validations' database calls on the event loop (no thread hop)? None: when the
    # database is SQLite or on this host, where a call takes well under a millisecond.
    db_inline: AutoOnOff = setting(
        env="TWOSTEP_DB_INLINE",
        doc="`on`: a validation's database calls run on the worker's event loop (no thread "
        "hop; fastest when a call takes well under a millisecond); `off`: in a pool of 16 "
        "threads per worker, so one slow round trip stalls one request only. `auto` is `on` "
        "for SQLite and a PostgreSQL server on this host (loopback or Unix socket), `off` for "
        "a remote one. With `on` and a remote database, run more workers.",
        allowed="auto, on or off",
        shown="`auto`",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = setting(
        "NORMAL",
        env="TWOSTEP_SQLITE_SYNCHRONOUS",
        doc="SQLite's `synchronous` pragma (any case): `NORMAL` survives a crash of Twostep, "
        "but a power loss may undo the last transactions (a just-accepted code could be "
        "accepted once more, their audit events lost); `FULL` syncs every commit to disk, "
        "closing that at the cost of one disk flush per write. Ignored on PostgreSQL",
        allowed="NORMAL or FULL",
    )

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper_synchronous(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

    @model_validator(mode="before")
    @classmethod
    def _default_database(cls, data: Any) -> Any:
        home = data.get("home", "data") if isinstance(data, dict) else None
        if isinstance(home, str | Path) and not data.get("database_url"):
            return {**data, "database_url": f"sqlite:///{Path(home).resolve() / 'twostep.db'}"}
        return data

    @field_validator("home")
    @classmethod
    def _absolute(cls, home: Path) -> Path:
        return home.resolve()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError(url)
        return url


class ServerConfig(Section):
    host: str = setting(
        "127.0.0.1", env="TWOSTEP_HOST", doc="listen address (`serve --host`)", allowed="an address"
    )
    port: int = setting(
        8080,
        env="TWOSTEP_PORT",
        doc="listen port, 1-65535 (`serve --port`)",
        allowed="an integer 1-65535",
        ge=1,
        le=65535,
    )
    workers: int = setting(
        1,
        env="TWOSTEP_WORKERS",
        doc=f"worker processes, 1-{MAX_WORKERS} (`serve --workers`)",
        allowed=f"an integer 1-{MAX_WORKERS}",
        shown="the number of CPU cores on SQLite (writes queue on one lock anyway); twice that "
        "on PostgreSQL (a worker waiting on a round trip leaves its core idle)",
        ge=1,
        le=MAX_WORKERS,
    )
    node_name: str = setting(
        env="TWOSTEP_NODE_NAME",
        doc="this node's name, recorded as `server_name` in every audit event",
        allowed="a name",
        shown="the host name",
        blank_is_unset=True,
        default_factory=socket.gethostname,
    )
    node_ip: str | None = setting(
        env="TWOSTEP_NODE_IP",
        doc="this node's address, recorded as `server_ip` in every audit event",
        allowed="an address",
        shown="`TWOSTEP_HOST`, or when that is `0.0.0.0`/`::` the address the host name "
        "resolves to",
        blank_is_unset=True,
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = setting(
        "INFO",
        env="TWOSTEP_LOG_LEVEL",
        doc="`DEBUG`, `INFO`, `WARNING` or `ERROR` (any case)",
        allowed="DEBUG, INFO, WARNING or ERROR",
    )
    log_format: Literal["auto", "json", "logfmt"] = setting(
        "auto",
        env="TWOSTEP_LOG_FORMAT",
        doc="`json` (one JSON object per line), `logfmt` (`key=value` pairs) or `auto`: logfmt "
        "when standard error is a terminal, JSON otherwise. Every line has `time`, `level`, "
        "`logger`, `node` (`node_name`), `message`, and `request_id` and `exception` when "
        "there are",
        allowed="auto, json or logfmt",
    )
    # The base URL providers and devices reach this server at (webhooks, activation links).
    public_url: str = setting(
        "",
        env="TWOSTEP_PUBLIC_URL",
        doc="the `http(s)://` address providers reach this server at, e.g. "
        "`https://mfa.example.com` (a trailing `/` is ignored). Gateway webhook URLs "
        "(`inbound_url`, `calls_url`, the callbacks of each call) are built from it, and "
        "Twilio's signatures are checked against it: set it, identically on every node, "
        "before using a real gateway",
        allowed="an http:// or https:// URL",
        shown="`http://TWOSTEP_HOST:TWOSTEP_PORT`",
        blank_is_unset=True,
    )
    metrics_token: SecretStr | None = setting(
        env="TWOSTEP_METRICS_TOKEN",
        doc="the bearer token Prometheus sends to scrape `/metrics` (`Authorization: Bearer "
        "...`, compared in constant time; at least 16 characters); unset, `/metrics` answers "
        "404 (see [Metrics](#metrics))",
        allowed="a token of 16 or more characters",
        shown="unset: no metrics",
        blank_is_unset=True,
        min_length=16,
    )

    shutdown_timeout: int = setting(
        10,
        env="TWOSTEP_SHUTDOWN_TIMEOUT",
        doc="seconds a stopping server (SIGTERM) gives requests in flight to finish, 1-300; "
        "long-polls are answered at once with their current state",
        allowed="an integer 1-300",
        ge=1,
        le=300,
    )
    rollup_interval: float = setting(
        5.0,
        env="TWOSTEP_ROLLUP_INTERVAL",
        doc="seconds between rounds of the usage rollup job (the dashboard's and reports' "
        "counts of audit events; one process per node runs it), 0-3600; `0` turns it off on "
        "this node: the figures stay exact but read more raw events the longer it is off "
        "(see [Usage rollups](#usage-rollups))",
        allowed="a number of seconds 0-3600",
        ge=0,
        le=3600,
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, level: object) -> object:
        known = isinstance(level, str) and level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR")
        return level.upper() if known and isinstance(level, str) else level

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError(url)
        return url.rstrip("/")


class RadiusConfig(Section):
    enabled: OnOff = setting(
        False,
        env="TWOSTEP_RADIUS",
        doc="`on`: `twostep serve` also runs the RADIUS server (see [RADIUS](radius.md))",
        allowed="on or off",
        shown="`off`",
    )
    host: str = setting(
        "127.0.0.1",
        env="TWOSTEP_RADIUS_HOST",
        doc="the RADIUS server's UDP listen address (`0.0.0.0` or `::` for all)",
        allowed="an address",
    )
    port: int = setting(
        1812,
        env="TWOSTEP_RADIUS_PORT",
        doc="the RADIUS server's UDP port, 1-65535",
        allowed="an integer 1-65535",
        ge=1,
        le=65535,
    )


class PushConfig(Section):
    """Push services that wake mobile authenticators (the pull channel needs none)."""

    vapid_subject: str = setting(
        "mailto:twostep@localhost",
        env="TWOSTEP_VAPID_SUBJECT",
        doc="Web Push: the contact push services see in the VAPID token, "
        "`mailto:admin@example.com` or `https://example.com`; set a real one (see "
        "[Push kinds](#push-kinds))",
        allowed="a mailto: or https: URL",
        blank_is_unset=True,
    )
    ntfy_server: str | None = setting(
        env="TWOSTEP_NTFY_SERVER",
        doc="the origin of your ntfy server, e.g. `https://ntfy.example.net`: the only "
        "server `TWOSTEP_NTFY_TOKEN` is sent to",
        allowed="a URL",
        blank_is_unset=True,
    )
    ntfy_token: SecretStr | None = setting(
        env="TWOSTEP_NTFY_TOKEN",
        doc="an ntfy access token, sent as `Authorization: Bearer` when publishing to topics "
        "on `TWOSTEP_NTFY_SERVER` (needs it)",
        allowed="a token",
        blank_is_unset=True,
    )
    fcm_credentials: Path | None = setting(
        env="TWOSTEP_FCM_CREDENTIALS",
        doc="path of a Firebase service-account JSON key file; set, apps may register `fcm` "
        "push channels",
        allowed="a file path",
        shown="unset: no FCM",
        blank_is_unset=True,
    )
    fcm_endpoint: str | None = setting(
        env="TWOSTEP_FCM_ENDPOINT",
        doc="the FCM HTTP v1 API's base URL (for a proxy or a test server)",
        allowed="a URL",
        shown="`https://fcm.googleapis.com`",
        blank_is_unset=True,
    )


class Config(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid", case_sensitive=True)

    storage: StorageConfig = Field(default_factory=StorageConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    radius: RadiusConfig = Field(default_factory=RadiusConfig)
    push: PushConfig = Field(default_factory=PushConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """The settings from ``env`` (default: the process's environment) and the TOML
        file it names in TWOSTEP_CONFIG, if any."""
        return cls.load(env)

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        file: Path | None = None,
        flags: Mapping[str, Mapping[str, object]] | None = None,
    ) -> Config:
        """Flags (``{"server": {"port": 8443}}``; None values are not given) over ``env``
        over ``file`` (default: the one TWOSTEP_CONFIG names) over the defaults. An
        unknown key or an invalid value raises InvalidSetting with one line naming it."""
        env = os.environ if env is None else env
        where = "--config"
        if file is None and env.get(CONFIG_VARIABLE):
            file, where = Path(env[CONFIG_VARIABLE]), CONFIG_VARIABLE
        given = {s: {k: v for k, v in f.items() if v is not None} for s, f in (flags or {}).items()}
        environment = EnvironmentSource(cls, env)
        sources: list[PydanticBaseSettingsSource] = [InitSettingsSource(cls, given), environment]
        if file is not None:
            sources.append(_toml(cls, file, where))
        # Sources built here, per call: pydantic-settings' own would read os.environ.
        # (Through a dict: mypy sees only the fields as keyword arguments.)
        build: dict[str, Any] = {"_build_sources": (tuple(sources), {})}
        try:
            return cls(**build)
        except ValidationError as exc:
            raise InvalidSetting(_explain(exc, given, environment.given, file)) from None

    @model_validator(mode="before")
    @classmethod
    def _default_workers(cls, data: Any) -> Any:
        """Workers depend on the database: filled in here, where both sections are seen."""
        if not isinstance(data, dict):
            return data
        server = data.get("server", {})
        if not isinstance(server, dict) or "workers" in server:
            return data
        storage = data.get("storage", {})
        url = storage.get("database_url") if isinstance(storage, dict) else None
        workers = default_workers(url if isinstance(url, str) and url else "sqlite")
        return {**data, "server": {**server, "workers": workers}}


def default_workers(database_url: str) -> int:
    """One worker per core on SQLite, where writes queue on one lock anyway; two per core
    on PostgreSQL, where a worker waiting on a round trip would leave its core idle."""
    cores = os.cpu_count() or 1
    return min(cores if database_url.startswith("sqlite") else 2 * cores, MAX_WORKERS)


SECTIONS: dict[str, type[Section]] = {
    "storage": StorageConfig,
    "server": ServerConfig,
    "radius": RadiusConfig,
    "push": PushConfig,
}


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    assert isinstance(extra, dict)
    return extra


def keys() -> Iterator[tuple[str, str, FieldInfo]]:
    """Every setting as (section, field, info), in the order of the table."""
    for section, model in SECTIONS.items():
        for name, info in model.model_fields.items():
            yield section, name, info


VARIABLES = {_extra(info)["env"]: (section, name, info) for section, name, info in keys()}


class EnvironmentSource(PydanticBaseSettingsSource):
    """TWOSTEP_* variables, each the flat name of one field; an unknown one is refused."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env = env
        self.given: dict[tuple[str, str], str] = {}  # (section, field) -> variable

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads every variable in one pass

    def __call__(self) -> dict[str, Any]:
        values: dict[str, dict[str, str]] = {}
        for variable in sorted(self.env):
            if not variable.startswith(PREFIX) or variable in NOT_SETTINGS:
                continue
            if variable not in VARIABLES:
                raise InvalidSetting(_unknown_variable(variable))
            section, name, info = VARIABLES[variable]
            value = self.env[variable]
            if value == "" and _extra(info)["blank_is_unset"]:
                continue
            values.setdefault(section, {})[name] = value
            self.given[section, name] = variable
        return values


def _toml(settings_cls: type[BaseSettings], file: Path, where: str) -> TomlConfigSettingsSource:
    if not file.is_file():
        raise InvalidSetting(f"{where}: no such file: {file}")
    try:
        return TomlConfigSettingsSource(settings_cls, toml_file=file)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidSetting(f"{file}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise InvalidSetting(f"{where}: cannot read {file}: {exc.strerror}") from None


def _unknown_variable(variable: str) -> str:
    close = difflib.get_close_matches(variable, [*VARIABLES, *NOT_SETTINGS], n=1, cutoff=0.85)
    hint = f"did you mean {close[0]}?" if close else "the variables are in the operator guide"
    return f"{variable}: not a Twostep setting ({hint})"


def _explain(
    exc: ValidationError,
    flags: Mapping[str, Mapping[str, object]],
    env: Mapping[tuple[str, str], str],
    file: Path | None,
) -> str:
    """The first problem as one line: the key as the operator wrote it, and what it takes."""
    error = exc.errors()[0]
    loc = tuple(str(part) for part in error["loc"])
    in_file = f" (in {file})"
    if not loc:
        return f"the settings are not valid: {error['msg']}"
    if len(loc) == 1:  # a whole section: unknown, or not a table
        if loc[0] not in SECTIONS:
            return f"{loc[0]}{in_file}: not a section; the sections are {', '.join(SECTIONS)}"
        return f"[{loc[0]}]{in_file}: must be a table of settings"
    section, name = loc[0], loc[1]
    model = SECTIONS[section]
    if name not in model.model_fields:
        known = ", ".join(model.model_fields)
        return f"{section}.{name}{in_file}: not a setting; [{section}] takes {known}"
    info = model.model_fields[name]
    if name in flags.get(section, {}):
        key = f"--{name.replace('_', '-')}"
    elif (section, name) in env:
        key = env[section, name]
    else:
        key = f"{section}.{name}{in_file}"
    value = error.get("input")
    secret = SecretStr in get_args(info.annotation)
    shown = "the value given" if secret else json.dumps(value, default=str)
    return f"{key}: must be {_extra(info)['allowed']}, not {shown}"


def markdown_table() -> str:
    """The operator guide's table of settings, from the fields' descriptions."""
    lines = [
        "| variable | TOML key | default | meaning |",
        "|---|---|---|---|",
        f"| `{CONFIG_VARIABLE}` | | unset | a TOML file of the settings below "
        "(`twostep --config FILE` takes precedence) |",
    ]
    for section, name, info in keys():
        extra = _extra(info)
        lines.append(
            f"| `{extra['env']}` | `[{section}] {name}` | {extra['shown']} | {info.description} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m twostep.config --markdown")
    sys.stdout.write(markdown_table())
