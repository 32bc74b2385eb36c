"""Settings are read from a given mapping, so every case here is independent of the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings, local_timezone

APP_ID = "00000000-0000-0000-0000-000000000001"


def error_for(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults() -> None:
    s = load_settings({})
    assert s.database_url == "sqlite+aiosqlite:///./ritualbot.db"
    assert (s.host, s.port) == ("127.0.0.1", 3000)
    assert s.public_url == "http://127.0.0.1:3000"
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.microsoft_app_type == "MultiTenant"
    assert s.llm_model == "gpt-4o-mini"
    assert s.secret_key is None
    assert s.admins == ()
    assert (s.log_level, s.log_format) == ("INFO", "console")
    assert s.misfire_grace_seconds == 3600
    assert s.misfire_grace.total_seconds() == 3600
    assert s.workers == 1
    assert (s.console_user, s.console_channel, s.console_tz) == ("operator", "team", "UTC")
    assert s.console_enabled
    assert not (s.slack_enabled or s.teams_enabled or s.llm_enabled)


def test_given_env_ignores_process_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-process")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HOST=10.9.9.9\n")
    s = load_settings({"USER": "ann", "TZ": "Europe/Berlin"})
    assert (s.host, s.port, s.slack_bot_token) == ("127.0.0.1", 3000, None)
    assert (s.console_user, s.console_tz) == ("ann", "Europe/Berlin")


def test_without_env_reads_process_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("HOST", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HOST=10.9.9.9\nPORT=1111\n")
    monkeypatch.setenv("PORT", "2222")
    s = load_settings()
    assert (s.host, s.port) == ("10.9.9.9", 2222)
    assert s.public_url == "http://10.9.9.9:2222"


def test_values_are_read_case_insensitively_and_stripped() -> None:
    s = load_settings(
        {
            "port": " 8080 ",
            "RITUALBOT_LOG_LEVEL": "debug",
            "RITUALBOT_LOG_FORMAT": "JSON",
            "MICROSOFT_APP_TYPE": "usERassignedmsi",
            "RITUALBOT_CONSOLE_TZ": "America/New_York",
            "RITUALBOT_MISFIRE_GRACE_SECONDS": "0",
        }
    )
    assert s.port == 8080
    assert (s.log_level, s.log_format) == ("DEBUG", "json")
    assert s.microsoft_app_type == "UserAssignedMSI"
    assert s.console_tz == "America/New_York"
    assert s.misfire_grace_seconds == 0


def test_empty_values_count_as_unset() -> None:
    s = load_settings({"PORT": "", "SLACK_BOT_TOKEN": "", "RITUALBOT_CONSOLE_USER": ""})
    assert s.port == 3000
    assert s.slack_bot_token is None
    assert s.console_user == "operator"


def test_the_console_user_is_the_login_name_else_one_that_reads_as_a_name() -> None:
    """Replies name the console's user in the third person ("… is on call"), so the
    fallback is a name, not "you"."""
    assert load_settings({"USER": "ann", "LOGNAME": "bob"}).console_user == "ann"
    assert load_settings({"LOGNAME": "bob"}).console_user == "bob"
    assert load_settings({"USER": " "}).console_user == "operator"


def test_an_app_id_that_is_not_a_guid_is_named_at_start() -> None:
    message = error_for({"MICROSOFT_APP_ID": "not-a-guid", "MICROSOFT_APP_PASSWORD": "p"})
    assert message.startswith("MICROSOFT_APP_ID: expected the Azure app (client) id, a GUID")
    assert "not-a-guid" in message
    alone = error_for({"MICROSOFT_APP_ID": "not-a-guid"})
    assert alone.startswith("MICROSOFT_APP_ID:")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "abc"}, "PORT: expected an integer from 1 to 65535, got 'abc'"),
        ({"PORT": "0"}, "PORT: expected an integer from 1 to 65535, got '0'"),
        ({"PORT": "65536"}, "PORT: expected an integer from 1 to 65535, got '65536'"),
        (
            {"DATABASE_URL": "mysql://u:p@db/ritualbot"},
            "DATABASE_URL: expected an async SQLAlchemy URL starting with sqlite+aiosqlite:// "
            "or postgresql+asyncpg://, got scheme 'mysql'",
        ),
        (
            {"RITUALBOT_CONSOLE_TZ": "Mars/Olympus_Mons"},
            "RITUALBOT_CONSOLE_TZ: expected an IANA time zone such as Europe/Berlin, "
            "got 'Mars/Olympus_Mons'",
        ),
        (
            {"MICROSOFT_APP_TYPE": "AnyTenant"},
            "MICROSOFT_APP_TYPE: expected one of MultiTenant, SingleTenant, UserAssignedMSI, "
            "got 'AnyTenant'",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token"},
            "SLACK_BOT_TOKEN: expected a Slack bot token starting with 'xoxb-'",
        ),
        (
            {"SLACK_APP_TOKEN": "xoxb-1"},
            "SLACK_APP_TOKEN: expected a Slack app-level token starting with 'xapp-'",
        ),
        (
            {"PUBLIC_URL": "bot.example.com"},
            "PUBLIC_URL: expected an http(s) URL for the public base URL, got 'bot.example.com'",
        ),
        (
            {"SLACK_API_URL": "ftp://slack.example/"},
            "SLACK_API_URL: expected an http(s) URL for the Slack Web API, "
            "got 'ftp://slack.example/'",
        ),
        (
            {"RITUALBOT_LOG_FORMAT": "xml"},
            "RITUALBOT_LOG_FORMAT: expected console or json, got 'xml'",
        ),
        (
            {"RITUALBOT_MISFIRE_GRACE_SECONDS": "-5"},
            "RITUALBOT_MISFIRE_GRACE_SECONDS: expected a whole number of seconds (0 or more), "
            "got '-5'",
        ),
        (
            {"RITUALBOT_WORKERS": "0"},
            "RITUALBOT_WORKERS: expected a whole number from 1 to 64, got '0'",
        ),
        (
            {"RITUALBOT_WORKERS": "two"},
            "RITUALBOT_WORKERS: expected a whole number from 1 to 64, got 'two'",
        ),
        (
            {"RITUALBOT_ADMINS": "29:alice, Alice Smith"},
            "RITUALBOT_ADMINS: expected platform user ids separated by commas (a Teams user's "
            "Entra object id, a Slack user id such as U0123ABCD), got 'Alice Smith'",
        ),
        (
            {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_TYPE": "SingleTenant"},
            "MICROSOFT_APP_TENANT_ID: expected a tenant id when MICROSOFT_APP_TYPE is SingleTenant",
        ),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], expected: str) -> None:
    assert error_for(env) == expected


def test_admins_are_a_comma_separated_list_of_user_ids() -> None:
    s = load_settings(
        {"RITUALBOT_ADMINS": " 6f1c2a4e-0000-4000-8000-00000000a11c ,29:1abc, ,U0123ABCD,29:1abc"}
    )
    assert s.admins == ("6f1c2a4e-0000-4000-8000-00000000a11c", "29:1abc", "U0123ABCD")


def test_secret_values_are_never_echoed() -> None:
    message = error_for({"SLACK_BOT_TOKEN": "xoxp-very-secret"})
    assert "very-secret" not in message


def test_database_url_password_is_never_echoed() -> None:
    message = error_for({"DATABASE_URL": "mysql://user:hunter2@db/x"})
    assert "hunter2" not in message


def test_several_problems_are_counted() -> None:
    message = error_for({"PORT": "x", "MICROSOFT_APP_TYPE": "y", "RITUALBOT_LOG_FORMAT": "z"})
    assert message.startswith("PORT: expected an integer")
    assert message.endswith("(and 2 more problems)")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/rb", "postgresql+asyncpg://u:p@db:5432/rb"),
        ("postgresql://u:p@db/rb", "postgresql+asyncpg://u:p@db/rb"),
        ("postgresql+asyncpg://u:p@db/rb", "postgresql+asyncpg://u:p@db/rb"),
        (
            "postgres://u:p%40ss@db/rb?sslmode=require",
            "postgresql+asyncpg://u:p%40ss@db/rb?ssl=require",
        ),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("sqlite+aiosqlite:////data/ritualbot.db", "sqlite+aiosqlite:////data/ritualbot.db"),
    ],
)
def test_database_url_is_made_async(given: str, expected: str) -> None:
    assert load_settings({"DATABASE_URL": given}).database_url == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HOST": "10.0.0.2", "PORT": "8080"}, "http://10.0.0.2:8080"),
        ({"HOST": "0.0.0.0"}, "http://localhost:3000"),
        ({"HOST": "::1"}, "http://[::1]:3000"),
        ({"PUBLIC_URL": "https://bot.example.com/"}, "https://bot.example.com"),
        (
            {"PUBLIC_URL": "https://example.com/ritualbot", "PORT": "1"},
            "https://example.com/ritualbot",
        ),
    ],
)
def test_public_url(env: dict[str, str], expected: str) -> None:
    assert load_settings(env).public_url == expected


def test_slack_api_url_gets_trailing_slash() -> None:
    s = load_settings({"SLACK_API_URL": "http://127.0.0.1:8999/api"})
    assert s.slack_api_url == "http://127.0.0.1:8999/api/"


@pytest.mark.parametrize(
    ("env", "slack", "socket_mode"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, True, False),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, True, True),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"},
            True,
            False,
        ),
    ],
)
def test_slack_enabled(env: dict[str, str], slack: bool, socket_mode: bool) -> None:
    s = load_settings(env)
    assert s.slack_enabled is slack
    assert s.slack_socket_mode is socket_mode
    assert s.console_enabled is not slack


def test_teams_enabled_by_app_id() -> None:
    s = load_settings({"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001"})
    assert s.teams_enabled
    assert not s.slack_enabled
    assert not s.console_enabled


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        ({"OPENAI_API_KEY": "sk-1"}, True),
        ({"OPENAI_BASE_URL": "http://localhost:11434/v1"}, True),
        ({"RITUALBOT_LLM_MODEL": "llama3"}, False),
    ],
)
def test_llm_enabled(env: dict[str, str], enabled: bool) -> None:
    assert load_settings(env).llm_enabled is enabled


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"MICROSOFT_APP_PASSWORD": "p"}, "MICROSOFT_APP_ID"),
        ({"MICROSOFT_APP_TENANT_ID": "t"}, "MICROSOFT_APP_ID"),
        (
            {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_TYPE": "UserAssignedMSI"},
            "MICROSOFT_APP_TENANT_ID",
        ),
    ],
)
def test_incomplete_platform_credentials_are_refused(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(env)
    assert str(refused.value).startswith(f"{variable}:")


def test_secrets_are_hidden_in_repr() -> None:
    s = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-hidden",
            "SLACK_APP_TOKEN": "xapp-1",
            "RITUALBOT_SECRET_KEY": "k" * 32,
        }
    )
    assert "xoxb-hidden" not in repr(s)
    assert s.slack_bot_token is not None
    assert s.slack_bot_token.get_secret_value() == "xoxb-hidden"
    assert s.secret_key is not None
    assert s.secret_key.get_secret_value() == "k" * 32


def test_fields_can_be_set_by_name() -> None:
    s = Settings(_env_file=None, log_level="warning", port=4000)
    assert (s.log_level, s.port, s.public_url) == ("WARNING", 4000, "http://127.0.0.1:4000")


def test_local_timezone_prefers_tz_variable(tmp_path: Path) -> None:
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/Asia/Tokyo")
    assert local_timezone({"TZ": ":Europe/Paris"}, link) == "Europe/Paris"
    assert local_timezone({}, link) == "Asia/Tokyo"
    assert local_timezone({"TZ": "not/a zone"}, link) == "Asia/Tokyo"


def test_local_timezone_falls_back_to_utc(tmp_path: Path) -> None:
    plain = tmp_path / "localtime"
    plain.write_bytes(b"TZif")
    assert local_timezone({}, plain) == "UTC"
    assert local_timezone({}, tmp_path / "missing") == "UTC"
    assert local_timezone({}, None) == "UTC"
    link = tmp_path / "posix-link"
    link.symlink_to("../usr/share/zoneinfo/posix/Europe/Oslo")
    assert local_timezone({}, link) == "Europe/Oslo"
