"""The model as the settings describe it: off without a key or URL, off by the deployment's
switch, and bad values stop the start with one line naming the variable."""

from __future__ import annotations

import pytest

from bot.app import model
from bot.settings import SettingsError, load_settings


def test_no_key_and_no_url_means_no_model() -> None:
    assert not model(load_settings({})).on


def test_a_base_url_alone_is_enough_for_a_local_server() -> None:
    found = model(load_settings({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}))
    assert found.on and found.config.api_key is None and found.config.redact


def test_the_deployment_switch_wins_over_a_key() -> None:
    settings = load_settings({"OPENAI_API_KEY": "sk-x", "RITUALBOT_LLM_OFF": "true"})
    assert not settings.llm_enabled and not model(settings).on


def test_every_knob_reaches_the_client() -> None:
    settings = load_settings(
        {
            "OPENAI_API_KEY": "sk-x",
            "RITUALBOT_LLM_MODEL": "llama3.1",
            "RITUALBOT_LLM_TIMEOUT_SECONDS": "7.5",
            "RITUALBOT_LLM_RETRIES": "0",
            "RITUALBOT_LLM_BUDGET_TOKENS": "3000",
            "RITUALBOT_LLM_REDACT": "false",
        }
    )
    config = model(settings).config
    assert (config.model, config.timeout, config.retries, config.budget, config.redact) == (
        "llama3.1",
        7.5,
        0,
        3000,
        False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RITUALBOT_LLM_TIMEOUT_SECONDS", "0"),
        ("RITUALBOT_LLM_TIMEOUT_SECONDS", "soon"),
        ("RITUALBOT_LLM_TIMEOUT_SECONDS", "nan"),
        ("RITUALBOT_LLM_RETRIES", "9"),
        ("RITUALBOT_LLM_RETRIES", "-1"),
        ("RITUALBOT_LLM_BUDGET_TOKENS", "10"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value})
    assert str(raised.value).startswith(f"{variable}: expected")
