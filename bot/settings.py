"""Process settings from the environment and an optional `.env`, checked once at start-up.

A bad value stops the process with one line naming the variable, instead of failing later
inside a platform SDK with a message that names neither the variable nor the fix.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as PydanticSettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "AppType",
    "LogFormat",
    "Settings",
    "SettingsError",
    "load_settings",
    "local_timezone",
]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./ritualbot.db"
ASYNC_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")
_REWRITES = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}
_LOCALTIME = Path("/etc/localtime")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_ADMIN_ID = 128  # as long as a user id any platform sends
MAX_WORKERS = 64

AppType = Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"]
LogFormat = Literal["console", "json"]
_APP_TYPES: tuple[AppType, ...] = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
# The console's user with no login name to go by: replies name them in the third person
# ("… is on call", "… now leads"), so a name, not "you".
CONSOLE_USER = "operator"

_only_env: ContextVar[Mapping[str, str] | None] = ContextVar("_only_env", default=None)


class SettingsError(Exception):
    """A configuration problem, rendered as one line an operator can act on."""

    def __init__(self, variable: str | None, problem: str, more: int = 0) -> None:
        self.variable = variable
        self.problem = " ".join(problem.split())
        self.more = more
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.variable}: {self.problem}" if self.variable else self.problem
        if self.more:
            text += f" (and {self.more} more problem{'s' if self.more > 1 else ''})"
        return text


def local_timezone(environ: Mapping[str, str], localtime: Path | None = _LOCALTIME) -> str:
    """The machine's IANA zone from `TZ` or the `/etc/localtime` symlink, else `UTC`.

    Console users type times in their own zone, so guessing it beats forcing UTC on them.
    """
    candidates = [environ.get("TZ", "")]
    if localtime is not None:
        with contextlib.suppress(OSError):
            candidates.append(str(localtime.readlink()))
    for raw in candidates:
        name = _zone_name(raw)
        if name and _is_zone(name):
            return name
    return "UTC"


def _zone_name(raw: str) -> str:
    name = raw.strip().removeprefix(":")
    if "zoneinfo/" in name:
        name = name.rsplit("zoneinfo/", 1)[1]
        for prefix in ("posix/", "right/"):
            name = name.removeprefix(prefix)
    return name


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True


class _MappingEnvSource(EnvSettingsSource):
    """Reads variables from a given mapping instead of `os.environ`, so tests are hermetic."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            (key if self.case_sensitive else key.lower()): value
            for key, value in self._mapping.items()
            if not (self.env_ignore_empty and value == "")
        }


class _DerivedDefaults(PydanticBaseSettingsSource):
    """Defaults that depend on the environment itself (login name, local zone); lowest priority."""

    def __init__(
        self, settings_cls: type[BaseSettings], env: Mapping[str, str], localtime: Path | None
    ) -> None:
        super().__init__(settings_cls)
        self._env = env
        self._localtime = localtime

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {
            "RITUALBOT_CONSOLE_USER": self._env.get("USER", "").strip()
            or self._env.get("LOGNAME", "").strip()
            or CONSOLE_USER,
            "RITUALBOT_CONSOLE_TZ": local_timezone(self._env, self._localtime),
        }


def _text(value: Any) -> Any:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value.strip() if isinstance(value, str) else value


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _http_url(value: str, *, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL for {what}, got {value!r}")
    return value


def _async_database_url(raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        got = f"scheme {raw.split('://', 1)[0]!r}" if "://" in raw else "no scheme"
        raise ValueError(
            "expected an SQLAlchemy URL such as sqlite+aiosqlite:///./ritualbot.db "
            f"or postgresql+asyncpg://user:pass@host/db, got {got}"
        ) from None
    driver = _REWRITES.get(url.drivername, url.drivername)
    if driver not in ASYNC_SCHEMES:
        raise ValueError(
            "expected an async SQLAlchemy URL starting with sqlite+aiosqlite:// or "
            f"postgresql+asyncpg://, got scheme {url.drivername!r}"
        )
    query = dict(url.query)
    if driver == "postgresql+asyncpg" and "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    if driver == url.drivername and query == dict(url.query):
        return raw
    return url.set(drivername=driver, query=query).render_as_string(hide_password=False)


class Settings(BaseSettings):
    """Everything the process reads from its environment; secrets never print in reprs."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        case_sensitive=False,
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 3000
    public_url: str = ""

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    microsoft_app_id: str | None = None
    microsoft_app_password: SecretStr | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: AppType = "MultiTenant"

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_model: str = Field("gpt-4o-mini", validation_alias="RITUALBOT_LLM_MODEL")
    # Off for the whole deployment, whatever key is set (an air-gapped or cautious team).
    llm_off: bool = Field(False, validation_alias="RITUALBOT_LLM_OFF")
    # Mask e-mail addresses, secrets and links before any text leaves for the model.
    llm_redact: bool = Field(True, validation_alias="RITUALBOT_LLM_REDACT")
    llm_timeout_seconds: float = Field(20.0, validation_alias="RITUALBOT_LLM_TIMEOUT_SECONDS")
    llm_retries: int = Field(1, validation_alias="RITUALBOT_LLM_RETRIES")
    llm_budget_tokens: int = Field(6000, validation_alias="RITUALBOT_LLM_BUDGET_TOKENS")
    secret_key: SecretStr | None = Field(None, validation_alias="RITUALBOT_SECRET_KEY")
    # Platform user ids the operator names as admins, comma-separated: on Teams (which never
    # says who administers a tenant) the Entra object id or the Bot Framework id.
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="RITUALBOT_ADMINS")

    log_level: str = Field("INFO", validation_alias="RITUALBOT_LOG_LEVEL")
    log_format: LogFormat = Field("console", validation_alias="RITUALBOT_LOG_FORMAT")
    misfire_grace_seconds: int = Field(3600, validation_alias="RITUALBOT_MISFIRE_GRACE_SECONDS")
    # Processes serving the one port (PostgreSQL only): one per core the host can spare.
    workers: int = Field(1, validation_alias="RITUALBOT_WORKERS")
    console_user: str = Field(CONSOLE_USER, validation_alias="RITUALBOT_CONSOLE_USER")
    console_channel: str = Field("team", validation_alias="RITUALBOT_CONSOLE_CHANNEL")
    console_tz: str = Field("UTC", validation_alias="RITUALBOT_CONSOLE_TZ")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = _only_env.get()
        if env is not None:
            return (
                init_settings,
                _MappingEnvSource(settings_cls, env),
                _DerivedDefaults(settings_cls, env, localtime=None),
            )
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            _DerivedDefaults(settings_cls, os.environ, localtime=_LOCALTIME),
        )

    @field_validator(
        "host",
        "slack_signing_secret",
        "slack_client_id",
        "slack_client_secret",
        "microsoft_app_id",
        "microsoft_app_password",
        "microsoft_app_tenant_id",
        "openai_api_key",
        "llm_model",
        "secret_key",
        "console_user",
        "console_channel",
        mode="before",
    )
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return _text(value)

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value or ())
        found: list[str] = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            if len(text) > MAX_ADMIN_ID or any(c.isspace() for c in text):
                raise ValueError(
                    "expected platform user ids separated by commas (a Teams user's Entra "
                    f"object id, a Slack user id such as U0123ABCD), got {text[:60]!r}"
                )
            found.append(text)
        return tuple(dict.fromkeys(found))

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> str:
        return _async_database_url(str(_text(value)))

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> int:
        text = str(_text(value))
        if (
            isinstance(value, bool)
            or not (text.isascii() and text.isdigit())
            or not 1 <= int(text) <= 65535
        ):
            raise ValueError(f"expected an integer from 1 to 65535, got {text!r}")
        return int(text)

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> str:
        text = str(_text(value))
        return _http_url(text, what="the public base URL").rstrip("/") if text else ""

    @field_validator("slack_bot_token", mode="before")
    @classmethod
    def _bot_token(cls, value: Any) -> Any:
        return _prefixed(value, "xoxb-", "a Slack bot token")

    @field_validator("slack_app_token", mode="before")
    @classmethod
    def _app_token(cls, value: Any) -> Any:
        return _prefixed(value, "xapp-", "a Slack app-level token")

    @field_validator("slack_api_url", mode="before")
    @classmethod
    def _slack_api_url(cls, value: Any) -> str:
        text = _http_url(str(_text(value)), what="the Slack Web API")
        return text if text.endswith("/") else text + "/"

    @field_validator("openai_base_url", mode="before")
    @classmethod
    def _openai_base_url(cls, value: Any) -> str | None:
        text = _text(value)
        return _http_url(str(text), what="an OpenAI-compatible API") if text else None

    @field_validator("llm_timeout_seconds", mode="before")
    @classmethod
    def _llm_timeout(cls, value: Any) -> float:
        text = str(_text(value))
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if isinstance(value, bool) or not 0.1 <= seconds <= 600:
            raise ValueError(f"expected seconds from 0.1 to 600, got {text!r}")
        return seconds

    @field_validator("llm_retries", mode="before")
    @classmethod
    def _llm_retries(cls, value: Any) -> int:
        text = str(_text(value))
        if isinstance(value, bool) or not _is_number(text) or int(text) > 5:
            raise ValueError(f"expected a whole number of retries from 0 to 5, got {text!r}")
        return int(text)

    @field_validator("llm_budget_tokens", mode="before")
    @classmethod
    def _llm_budget(cls, value: Any) -> int:
        text = str(_text(value))
        if isinstance(value, bool) or not _is_number(text) or not 500 <= int(text) <= 1_000_000:
            raise ValueError(f"expected a number of tokens from 500 to 1000000, got {text!r}")
        return int(text)

    @field_validator("microsoft_app_id", mode="before")
    @classmethod
    def _app_id(cls, value: Any) -> str | None:
        text = _text(value)
        if not text:
            return None
        if not _GUID.fullmatch(str(text)):
            raise ValueError(
                "expected the Azure app (client) id, a GUID such as "
                f"00000000-0000-0000-0000-000000000000, got {str(text)[:60]!r}"
            )
        return str(text)

    @field_validator("microsoft_app_type", mode="before")
    @classmethod
    def _app_type(cls, value: Any) -> str:
        text = str(_text(value))
        for app_type in _APP_TYPES:
            if text.lower() == app_type.lower():
                return app_type
        raise ValueError(f"expected one of {', '.join(_APP_TYPES)}, got {text!r}")

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> str:
        text = str(_text(value)).upper()
        if text == "WARN":
            text = "WARNING"
        if text not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return text

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> str:
        text = str(_text(value)).lower()
        if text not in ("console", "json"):
            raise ValueError(f"expected console or json, got {value!r}")
        return text

    @field_validator("misfire_grace_seconds", mode="before")
    @classmethod
    def _grace(cls, value: Any) -> int:
        text = str(_text(value))
        if isinstance(value, bool) or not _is_number(text):
            raise ValueError(f"expected a whole number of seconds (0 or more), got {text!r}")
        return int(text)

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: Any) -> int:
        text = str(_text(value))
        if isinstance(value, bool) or not _is_number(text) or not 1 <= int(text) <= MAX_WORKERS:
            raise ValueError(f"expected a whole number from 1 to {MAX_WORKERS}, got {text!r}")
        return int(text)

    @field_validator("console_tz", mode="before")
    @classmethod
    def _console_tz(cls, value: Any) -> str:
        text = str(_text(value))
        if not _is_zone(text):
            raise ValueError(f"expected an IANA time zone such as Europe/Berlin, got {text!r}")
        return text

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        if not self.public_url:
            host = "localhost" if self.host in _WILDCARD_HOSTS else self.host
            if ":" in host and not host.startswith("["):
                host = f"[{host}]"
            self.public_url = f"http://{host}:{self.port}"
        if (
            self.microsoft_app_id
            and self.microsoft_app_type in ("SingleTenant", "UserAssignedMSI")
            and not self.microsoft_app_tenant_id
        ):
            raise ValueError(
                "MICROSOFT_APP_TENANT_ID: expected a tenant id when MICROSOFT_APP_TYPE "
                f"is {self.microsoft_app_type}"
            )
        if not self.microsoft_app_id:
            for name in ("microsoft_app_password", "microsoft_app_tenant_id"):
                if getattr(self, name):
                    raise ValueError(
                        f"MICROSOFT_APP_ID: expected the bot's app id with {name.upper()}"
                    )
        if self.slack_app_token and not (self.slack_bot_token or self.slack_client_id):
            raise ValueError(
                "SLACK_BOT_TOKEN: expected a bot token (or OAuth settings) with SLACK_APP_TOKEN"
            )
        if self.slack_signing_secret and not (self.slack_bot_token or self.slack_client_id):
            raise ValueError(
                "SLACK_BOT_TOKEN: expected a bot token (or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET for OAuth) with SLACK_SIGNING_SECRET"
            )
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            raise ValueError(
                "SLACK_CLIENT_SECRET: SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together"
            )
        if self.slack_client_id and not self.slack_signing_secret:
            raise ValueError(
                "SLACK_SIGNING_SECRET: expected a signing secret with SLACK_CLIENT_ID "
                "(installs over OAuth arrive over HTTP)"
            )
        if self.slack_bot_token and not (self.slack_signing_secret or self.slack_app_token):
            raise ValueError(
                "SLACK_SIGNING_SECRET: expected it (or SLACK_APP_TOKEN for Socket Mode) "
                "with SLACK_BOT_TOKEN"
            )
        return self

    @property
    def slack_socket_mode(self) -> bool:
        return bool(self.slack_app_token and self.slack_bot_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(
            (self.slack_bot_token and self.slack_signing_secret)
            or self.slack_socket_mode
            or (self.slack_client_id and self.slack_client_secret)
        )

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def llm_enabled(self) -> bool:
        """A key, or a base URL alone, since local OpenAI-compatible servers often need no key."""
        return bool(self.openai_api_key or self.openai_base_url) and not self.llm_off

    @property
    def console_enabled(self) -> bool:
        return not (self.slack_enabled or self.teams_enabled)

    @property
    def misfire_grace(self) -> timedelta:
        return timedelta(seconds=self.misfire_grace_seconds)


def _prefixed(value: Any, prefix: str, what: str) -> Any:
    text = _text(value)
    if text and not str(text).startswith(prefix):
        raise ValueError(f"expected {what} starting with {prefix!r}")
    return text or None


def _env_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names[name] = alias if isinstance(alias, str) else name.upper()
    return names


_SECRET_FIELDS = frozenset(
    {
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_client_secret",
        "microsoft_app_password",
        "openai_api_key",
        "secret_key",
    }
)


def _to_settings_error(exc: ValidationError) -> SettingsError:
    errors = exc.errors()
    first = errors[0]
    names = _env_names()
    loc = str(first["loc"][0]) if first["loc"] else ""
    field = next((name for name, env in names.items() if loc in (name, env)), None)
    variable = names[field] if field else None
    cause = (first.get("ctx") or {}).get("error")
    if first["type"] == "value_error" and cause is not None:
        problem = str(cause)
    elif field in _SECRET_FIELDS:
        problem = first["msg"]
    else:
        problem = f"{first['msg']}, got {first['input']!r}"
    return SettingsError(variable, problem, more=len(errors) - 1)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings once, at start-up.

    With `env`, only that mapping is read (no `.env`, no `os.environ`, no `/etc/localtime`),
    so tests and tools get the same answer on every machine.
    """
    token = _only_env.set(env)
    try:
        return Settings(_env_file=None) if env is not None else Settings()
    except ValidationError as exc:
        raise _to_settings_error(exc) from None
    except PydanticSettingsError as exc:
        raise SettingsError(None, str(exc)) from None
    finally:
        _only_env.reset(token)
