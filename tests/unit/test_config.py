"""The server's settings: every TWOSTEP_* variable keeps its name and meaning, an optional
TOML file sits under the environment, flags over both, and anything unknown or invalid
stops the start with one line naming the key and what it takes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from twostep.config import MAX_WORKERS, Config, markdown_table
from twostep.domain.errors import InvalidSetting

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operator-guide.md"
HEX_KEY = "ab" * 32


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # TWOSTEP_HOME's default, `data`, is relative


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "twostep.toml"
    path.write_text(text)
    return path


def refusal(env: dict[str, str], file: Path | None = None) -> str:
    with pytest.raises(InvalidSetting) as refused:
        Config.load(env, file=file)
    return refused.value.message


class TestTheEnvironment:
    def test_the_defaults(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("os.cpu_count", lambda: 3)
        config = Config.from_env({})
        assert config.storage.home == tmp_path / "data"
        assert config.storage.database_url == f"sqlite:///{tmp_path / 'data' / 'twostep.db'}"
        assert config.storage.key_file == tmp_path / "data" / "secret.key"
        assert (config.storage.secret_key, config.storage.db_inline) == (None, None)
        assert (config.server.host, config.server.port, config.server.workers) == (
            "127.0.0.1",
            8080,
            3,
        )
        assert config.server.node_name and config.server.node_ip is None
        assert (config.server.log_level, config.server.public_url) == ("INFO", "")
        assert (config.radius.enabled, config.radius.host, config.radius.port) == (
            False,
            "127.0.0.1",
            1812,
        )
        assert config.push.vapid_subject == "mailto:twostep@localhost"
        assert config.push.ntfy_server is config.push.ntfy_token is None
        assert config.push.fcm_credentials is config.push.fcm_endpoint is None

    def test_every_variable_sets_its_attribute(self, tmp_path: Path) -> None:
        config = Config.from_env(
            {
                "TWOSTEP_HOME": "srv",
                "TWOSTEP_DATABASE_URL": "postgresql+psycopg://db.example/twostep",
                "TWOSTEP_SECRET_KEY": HEX_KEY,
                "TWOSTEP_DB_INLINE": "off",
                "TWOSTEP_HOST": "::",
                "TWOSTEP_PORT": "8443",
                "TWOSTEP_WORKERS": "5",
                "TWOSTEP_NODE_NAME": "node-a",
                "TWOSTEP_NODE_IP": "192.0.2.10",
                "TWOSTEP_LOG_LEVEL": "debug",
                "TWOSTEP_PUBLIC_URL": "https://mfa.example.com/",
                "TWOSTEP_RADIUS": "on",
                "TWOSTEP_RADIUS_HOST": "::",
                "TWOSTEP_RADIUS_PORT": "11812",
                "TWOSTEP_VAPID_SUBJECT": "mailto:ops@example.com",
                "TWOSTEP_NTFY_SERVER": "https://ntfy.example.net",
                "TWOSTEP_NTFY_TOKEN": "tk_abc",
                "TWOSTEP_FCM_CREDENTIALS": "/etc/twostep/fcm.json",
                "TWOSTEP_FCM_ENDPOINT": "https://fcm.example.net",
            }
        )
        storage, server, radius, push = config.storage, config.server, config.radius, config.push
        assert storage.home == tmp_path / "srv"  # resolved at start
        assert storage.database_url == "postgresql+psycopg://db.example/twostep"
        assert storage.secret_key == SecretStr(HEX_KEY) and storage.db_inline is False
        assert (server.host, server.port, server.workers) == ("::", 8443, 5)
        assert (server.node_name, server.node_ip) == ("node-a", "192.0.2.10")
        assert server.log_level == "DEBUG"
        assert server.public_url == "https://mfa.example.com"  # the trailing / is ignored
        assert (radius.enabled, radius.host, radius.port) == (True, "::", 11812)
        assert push.vapid_subject == "mailto:ops@example.com"
        assert push.ntfy_server == "https://ntfy.example.net"
        assert push.ntfy_token == SecretStr("tk_abc")
        assert push.fcm_credentials == Path("/etc/twostep/fcm.json")
        assert push.fcm_endpoint == "https://fcm.example.net"

    @pytest.mark.parametrize(
        ("word", "radius", "inline"),
        [
            ("on", True, True),
            ("OFF", False, False),
            ("1", True, True),
            ("0", False, False),
            ("true", True, True),
            ("no", False, False),
        ],
    )
    def test_switches_take_the_words_they_always_took(
        self, word: str, radius: bool, inline: bool
    ) -> None:
        config = Config.from_env({"TWOSTEP_RADIUS": word, "TWOSTEP_DB_INLINE": word})
        assert (config.radius.enabled, config.storage.db_inline) == (radius, inline)

    def test_db_inline_auto_decides_by_the_database(self) -> None:
        assert Config.from_env({"TWOSTEP_DB_INLINE": "auto"}).storage.db_inline is None

    def test_an_empty_optional_variable_is_the_default(self, tmp_path: Path) -> None:
        names = ["DATABASE_URL", "SECRET_KEY", "NODE_NAME", "NODE_IP", "PUBLIC_URL"]
        names += ["VAPID_SUBJECT", "NTFY_SERVER", "NTFY_TOKEN", "FCM_CREDENTIALS", "FCM_ENDPOINT"]
        config = Config.from_env({f"TWOSTEP_{name}": "" for name in names})
        assert config == Config.from_env({})

    def test_workers_default_to_one_per_core_on_sqlite_two_on_postgresql(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("os.cpu_count", lambda: 4)
        assert Config.from_env({}).server.workers == 4
        postgres = {"TWOSTEP_DATABASE_URL": "postgresql+psycopg://db/twostep"}
        assert Config.from_env(postgres).server.workers == 8
        monkeypatch.setattr("os.cpu_count", lambda: 200)
        assert Config.from_env({}).server.workers == MAX_WORKERS

    def test_other_programs_variables_are_not_settings(self) -> None:
        env = {"TWOSTEP_AUTHENTICATOR_HOME": "/home/a/.auth", "PATH": "/bin", "_TWOSTEP_X": "1"}
        assert Config.from_env(env) == Config.from_env({})


class TestRefusals:
    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"TWOSTEP_RADIUS": "maybe"}, 'TWOSTEP_RADIUS: must be on or off, not "maybe"'),
            ({"TWOSTEP_RADIUS": "auto"}, 'TWOSTEP_RADIUS: must be on or off, not "auto"'),
            (
                {"TWOSTEP_DB_INLINE": "sometimes"},
                'TWOSTEP_DB_INLINE: must be auto, on or off, not "sometimes"',
            ),
            ({"TWOSTEP_PORT": "http"}, 'TWOSTEP_PORT: must be an integer 1-65535, not "http"'),
            ({"TWOSTEP_PORT": ""}, 'TWOSTEP_PORT: must be an integer 1-65535, not ""'),
            (
                {"TWOSTEP_RADIUS_PORT": "70000"},
                'TWOSTEP_RADIUS_PORT: must be an integer 1-65535, not "70000"',
            ),
            ({"TWOSTEP_WORKERS": "65"}, 'TWOSTEP_WORKERS: must be an integer 1-64, not "65"'),
            (
                {"TWOSTEP_LOG_LEVEL": "loud"},
                'TWOSTEP_LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR, not "loud"',
            ),
            (
                {"TWOSTEP_DATABASE_URL": "mysql://db/twostep"},
                "TWOSTEP_DATABASE_URL: must be a sqlite:// or postgresql URL, "
                'not "mysql://db/twostep"',
            ),
            (
                {"TWOSTEP_PUBLIC_URL": "mfa.example.com"},
                'TWOSTEP_PUBLIC_URL: must be an http:// or https:// URL, not "mfa.example.com"',
            ),
        ],
    )
    def test_a_wrong_value_is_one_line_naming_the_variable_and_what_it_takes(
        self, env: dict[str, str], message: str
    ) -> None:
        assert refusal(env) == message

    def test_an_unknown_variable_is_refused_with_the_likely_one(self) -> None:
        assert refusal({"TWOSTEP_RADIUS_PROT": "1813"}) == (
            "TWOSTEP_RADIUS_PROT: not a Twostep setting (did you mean TWOSTEP_RADIUS_PORT?)"
        )
        assert refusal({"TWOSTEP_COLOUR": "blue"}) == (
            "TWOSTEP_COLOUR: not a Twostep setting (the variables are in the operator guide)"
        )

    def test_a_flag_is_named_as_the_flag(self) -> None:
        with pytest.raises(InvalidSetting, match=r"^--workers: must be an integer 1-64, not 99$"):
            Config.load({}, flags={"server": {"workers": 99}})


class TestTheFile:
    def test_sections_hold_the_settings(self, tmp_path: Path) -> None:
        file = toml(
            tmp_path,
            '[storage]\nhome = "/var/lib/twostep"\ndb_inline = "on"\n'
            '[server]\nport = 9000\nlog_level = "warning"\n'
            "[radius]\nenabled = true\nport = 1645\n"
            '[push]\nntfy_token = "tk_file"\n',
        )
        config = Config.load({}, file=file)
        assert config.storage.home == Path("/var/lib/twostep")
        assert config.storage.database_url == "sqlite:////var/lib/twostep/twostep.db"
        assert config.storage.db_inline is True
        assert (config.server.port, config.server.log_level) == (9000, "WARNING")
        assert (config.radius.enabled, config.radius.port) == (True, 1645)
        assert config.push.ntfy_token == SecretStr("tk_file")

    def test_flags_over_the_environment_over_the_file_over_the_defaults(
        self, tmp_path: Path
    ) -> None:
        file = toml(tmp_path, '[server]\nhost = "10.0.0.1"\nport = 9000\nworkers = 3\n')
        env = {"TWOSTEP_CONFIG": str(file), "TWOSTEP_PORT": "9100", "TWOSTEP_WORKERS": "4"}
        config = Config.load(env, flags={"server": {"workers": 5, "host": None}})
        assert (config.server.workers, config.server.port) == (5, 9100)
        assert config.server.host == "10.0.0.1"  # a flag not given (None) leaves it
        assert config.server.log_level == "INFO"

    def test_the_file_named_on_the_command_line_wins_over_twostep_config(
        self, tmp_path: Path
    ) -> None:
        named = toml(tmp_path, "[server]\nport = 9000\n")
        other = tmp_path / "other.toml"
        other.write_text("[server]\nport = 9999\n")
        assert Config.load({"TWOSTEP_CONFIG": str(other)}, file=named).server.port == 9000

    def test_workers_follow_a_postgresql_url_in_the_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("os.cpu_count", lambda: 2)
        file = toml(tmp_path, '[storage]\ndatabase_url = "postgresql+psycopg://db/twostep"\n')
        assert Config.load({}, file=file).server.workers == 4

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "[radius]\nenabld = true\n",
                "radius.enabld ({in}): not a setting; [radius] takes enabled, host, port",
            ),
            (
                "[radios]\nenabled = true\n",
                "radios ({in}): not a section; the sections are storage, server, radius, push",
            ),
            (
                '[radius]\nenabled = "maybe"\n',
                'radius.enabled ({in}): must be on or off, not "maybe"',
            ),
            ("[server]\nworkers = 0\n", "server.workers ({in}): must be an integer 1-64, not 0"),
            ("radius = 5\n", "[radius] ({in}): must be a table of settings"),
            (
                "[storage]\nsecret_key = 12\n",
                "storage.secret_key ({in}): must be 64 hex "
                "characters per key, comma-separated, not the value given",
            ),
        ],
    )
    def test_an_unknown_key_or_a_wrong_value_in_the_file_is_one_line(
        self, tmp_path: Path, text: str, message: str
    ) -> None:
        file = toml(tmp_path, text)
        assert refusal({}, file) == message.format(**{"in": f"in {file}"})

    def test_a_file_that_is_not_toml_or_not_there_is_refused(self, tmp_path: Path) -> None:
        broken = toml(tmp_path, "[radius\n")
        assert refusal({}, broken).startswith(f"{broken}: not valid TOML (")
        assert refusal({"TWOSTEP_CONFIG": "/nowhere.toml"}) == (
            "TWOSTEP_CONFIG: no such file: /nowhere.toml"
        )


def test_secrets_never_appear_in_a_repr(tmp_path: Path) -> None:
    file = toml(tmp_path, '[push]\nntfy_token = "tk_from_the_file"\n')
    config = Config.load({"TWOSTEP_SECRET_KEY": HEX_KEY}, file=file)
    shown = repr(config) + str(config) + repr(config.storage) + config.model_dump_json()
    assert HEX_KEY not in shown and "tk_from_the_file" not in shown
    assert config.storage.secret_key is not None
    assert config.storage.secret_key.get_secret_value() == HEX_KEY


def test_the_operator_guide_holds_the_generated_table() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- settings table: python -m twostep.config --markdown -->\n(.*?)<!-- end -->",
        guide,
        re.S,
    )
    assert found, "the generated table's markers are missing from the operator guide"
    assert found.group(1) == markdown_table(), "regenerate it: python -m twostep.config --markdown"


def test_the_generator_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twostep.config", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == markdown_table()
