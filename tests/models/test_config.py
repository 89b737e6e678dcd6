"""What users set about model requests: the output limit, prices, timeouts; and what a run
costs depending on where the model is served."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from fakes.anthropic_server import AnthropicFake, Reply
from fakes.openai_server import ChatReply, OpenAIFake

from backend_agent.errors import UserError
from backend_agent.messages import Message, ModelRequest
from backend_agent.models import anthropic as anthropic_adapter
from backend_agent.models.anthropic import AnthropicModel
from backend_agent.models.catalog import DEFAULT_OUTPUT_TOKENS, Price, price_of
from backend_agent.models.config import ModelSettings
from backend_agent.models.openai import OpenAIModel
from backend_agent.settings import load_settings_files

HELLO = ModelRequest(system="", messages=[Message.user("hello")])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


def write_settings(directory: Path, name: str, data: object) -> Path:
    path = directory / ".claude" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_the_output_limit_comes_from_the_flag_then_env_then_settings(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_settings(home, "settings.json", {"maxOutputTokens": 1000})
    write_settings(tmp_path, "settings.json", {"maxOutputTokens": 2000})
    assert ModelSettings.load(load_settings_files(tmp_path)).max_output_tokens == 2000
    write_settings(tmp_path, "settings.local.json", {"maxOutputTokens": 3000})
    assert ModelSettings.load(load_settings_files(tmp_path)).max_output_tokens == 3000
    monkeypatch.setenv("BACKEND_AGENT_MAX_OUTPUT_TOKENS", "4000")
    assert ModelSettings.load(load_settings_files(tmp_path)).max_output_tokens == 4000
    assert (
        ModelSettings.load(load_settings_files(tmp_path), max_output_tokens=5000).max_output_tokens
        == 5000
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"maxOutputTokens": "lots"}, "maxOutputTokens: expected a whole number"),
        ({"modelPrices": {"m": {"input": 1}}}, "modelPrices.m: give input and output"),
        ({"modelPrices": {"m": {"input": 1, "output": -2}}}, "modelPrices.m.output"),
        ({"modelPrices": {"m": {"input": 1, "output": 2, "per": 3}}}, "unknown field"),
    ],
)
def test_invalid_settings_name_the_file_and_the_key(
    tmp_path: Path, home: Path, data: object, problem: str
) -> None:
    path = write_settings(tmp_path, "settings.json", data)
    with pytest.raises(UserError) as caught:
        ModelSettings.load(load_settings_files(tmp_path))
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_timeouts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_AGENT_STREAM_IDLE_TIMEOUT", "12.5")
    monkeypatch.setenv("BACKEND_AGENT_REQUEST_TIMEOUT", "300")
    timeouts = ModelSettings.load().timeouts
    assert (timeouts.idle, timeouts.total) == (12.5, 300)


def test_a_claude_model_at_another_base_url_has_no_price_unless_settings_give_one(
    anthropic_fake: AnthropicFake,
) -> None:
    anthropic_fake.add(Reply.of("free?"), Reply.of("priced"))
    unpriced = AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=anthropic_fake.url)
    assert unpriced.complete(HELLO).cost_usd is None

    settings = ModelSettings(prices={"claude-sonnet-5-5": Price(1.0, 2.0, 0.0, 0.0)})
    priced = AnthropicModel(
        "claude-sonnet-5-5", api_key="k", base_url=anthropic_fake.url, settings=settings
    )
    response = priced.complete(HELLO)
    usage = response.usage
    assert response.cost_usd == pytest.approx(
        (usage.input_tokens * 1.0 + usage.output_tokens * 2.0) / 1e6
    )


def test_at_the_providers_own_endpoint_the_catalog_prices_the_model(
    anthropic_fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    official = replace(anthropic_adapter.API, official_host="127.0.0.1")
    monkeypatch.setattr(anthropic_adapter, "API", official)
    anthropic_fake.add(Reply.of("priced"))
    model = AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=anthropic_fake.url)

    response = model.complete(HELLO)

    price = price_of("claude-sonnet-5-5")
    assert price is not None and response.cost_usd == pytest.approx(price.cost(response.usage))


def test_a_local_model_aliased_like_an_openai_one_is_not_priced(openai_fake: OpenAIFake) -> None:
    openai_fake.add(ChatReply("local"))
    model = OpenAIModel("gpt-4o", base_url=openai_fake.url)

    assert model.complete(HELLO).cost_usd is None


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        ({"/props": {"default_generation_settings": {"n_ctx": 16384}}}, 4096),  # llama.cpp
        ({"/v1/models": {"data": [{"id": "local", "max_model_len": 8192}]}}, 2048),  # vLLM
        ({}, DEFAULT_OUTPUT_TOKENS),  # a server that says nothing (Ollama)
    ],
    ids=["llama.cpp", "vllm", "silent"],
)
def test_a_local_server_gets_a_quarter_of_the_context_it_reports(
    openai_fake: OpenAIFake, documents: dict[str, object], expected: int
) -> None:
    openai_fake.documents.update(documents)
    openai_fake.add(ChatReply("one"), ChatReply("two"))
    model = OpenAIModel("local", base_url=openai_fake.url)

    model.complete(HELLO)
    model.complete(HELLO)

    assert [r.body["max_tokens"] for r in openai_fake.requests] == [expected, expected]


def test_an_explicit_output_limit_is_sent_as_it_is(openai_fake: OpenAIFake) -> None:
    openai_fake.documents["/props"] = {"default_generation_settings": {"n_ctx": 4096}}
    openai_fake.add(ChatReply("one"))
    model = OpenAIModel(
        "local", base_url=openai_fake.url, settings=ModelSettings(max_output_tokens=3000)
    )

    model.complete(HELLO)

    assert openai_fake.requests[0].body["max_tokens"] == 3000
