"""The context budget (catalog, settings, environment, flag), token estimates, and telling a
"prompt is too long" error apart from every other provider error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend_agent.errors import UserError
from backend_agent.messages import Message, ModelRequest, Usage
from backend_agent.models.base import ModelError
from backend_agent.runtime.compaction import Compactor
from backend_agent.runtime.context import (
    DEFAULT_TOOL_OUTPUT_LIMIT,
    ContextBudget,
    ContextOptions,
    TokenGauge,
    is_context_overflow,
    parse_threshold,
    resolve_budget,
    stated_window,
    tool_output_limit,
)
from backend_agent.settings import SettingsFiles, load_settings_files


def settings_with(project: Path, context: object) -> SettingsFiles:
    (project / ".claude").mkdir(exist_ok=True)
    (project / ".claude" / "settings.json").write_text(json.dumps({"context": context}))
    return load_settings_files(project)


def test_claude_models_get_their_window_and_compact_at_80_percent_of_what_the_prompt_may_use():
    budget = resolve_budget("claude-sonnet-4-5-20250929", ContextOptions())
    assert (budget.window, budget.output_reserve) == (200_000, 32_000)
    assert budget.threshold == int(0.8 * 168_000)
    assert budget.auto_compact


def test_an_unknown_local_model_gets_a_conservative_window():
    budget = resolve_budget("qwen3-coder-30b", ContextOptions())
    assert budget.window == 32_768 and budget.output_reserve == 4_096


def test_the_environment_sets_the_window_of_a_local_model(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BACKEND_AGENT_CONTEXT_WINDOW", "8192")
    budget = resolve_budget("qwen3-coder-30b", ContextOptions())
    assert budget.window == 8192
    assert budget.output_reserve == 2048  # a small window keeps most of itself for the prompt


def test_a_flag_beats_the_environment_which_beats_settings(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    files = settings_with(project, {"window": 50_000, "compactThreshold": "60%"})
    assert resolve_budget("x", ContextOptions(), files).window == 50_000
    monkeypatch.setenv("BACKEND_AGENT_CONTEXT_WINDOW", "40000")
    budget = resolve_budget("x", ContextOptions(), files)
    assert budget.window == 40_000 and budget.compact_threshold == pytest.approx(0.6)
    flagged = resolve_budget("x", ContextOptions(window=30_000), files)
    assert flagged.window == 30_000


def test_the_local_settings_file_beats_the_project_one(project: Path):
    settings_with(project, {"window": 50_000, "toolOutputLimit": 5000})
    local = {"context": {"window": 60_000}}
    (project / ".claude" / "settings.local.json").write_text(json.dumps(local))
    files = load_settings_files(project)
    assert resolve_budget("x", ContextOptions(), files).window == 60_000
    assert tool_output_limit(ContextOptions(), files) == 5000
    assert tool_output_limit(ContextOptions()) == DEFAULT_TOOL_OUTPUT_LIMIT


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"window": "big"}, "context.window: expected a positive whole number"),
        ({"window": -5}, "context.window: expected a positive whole number"),
        ({"compactThreshold": 3.5}, "context.compactThreshold"),
        ({"compactThreshold": True}, "context.compactThreshold"),
        ({"windw": 1000}, "context.windw: unknown key"),
        ("yes", "context: expected an object"),
    ],
)
def test_a_bad_context_setting_names_the_file_and_the_key(
    project: Path, section: object, problem: str
):
    files = settings_with(project, section)
    with pytest.raises(UserError) as caught:
        resolve_budget("x", ContextOptions(), files)
    assert problem in str(caught.value)
    assert str(project / ".claude" / "settings.json") in str(caught.value)


def test_an_output_reserve_of_half_the_window_or_more_is_refused():
    with pytest.raises(UserError, match="under half the window"):
        resolve_budget("x", ContextOptions(window=10_000, output_reserve=6_000))


@pytest.mark.parametrize(
    ("text", "share"), [("80%", 0.8), ("80", 0.8), ("0.6", 0.6), ("100%", 1.0), (" 50% ", 0.5)]
)
def test_a_threshold_is_a_share_of_the_usable_window(text: str, share: float):
    assert parse_threshold(text, "--compact-threshold").compact_threshold == pytest.approx(share)


def test_off_turns_automatic_compaction_off():
    options = parse_threshold("off", "--compact-threshold")
    assert resolve_budget("claude-haiku-4-5", options).auto_compact is False


@pytest.mark.parametrize("text", ["0", "150%", "much", "-0.5", "0.01"])
def test_a_threshold_out_of_range_is_one_clear_error(text: str):
    with pytest.raises(UserError, match="--compact-threshold"):
        parse_threshold(text, "--compact-threshold")


# ---------------------------------------------------------------- overflow errors


@pytest.mark.parametrize(
    "message",
    [
        # Anthropic
        "Anthropic request failed: HTTP 400 invalid_request_error: prompt is too long: "
        "208123 tokens > 200000 maximum; the API rejected the request",
        "HTTP 400 invalid_request_error: input length and `max_tokens` exceed context limit: "
        "197626 + 21333 > 200000, decrease input length or `max_tokens` and try again",
        # OpenAI
        "OpenAI request failed: HTTP 400 context_length_exceeded: This model's maximum context "
        "length is 128000 tokens. However, your messages resulted in 130411 tokens.",
        # vLLM (two generations of its wording)
        "HTTP 400 BadRequestError: This model's maximum context length is 4096 tokens. However, "
        "you requested 5000 tokens (4000 in the messages, 1000 in the completion).",
        "HTTP 400 'max_tokens' or 'max_completion_tokens' is too large: 1000. This model's "
        "maximum context length is 4096 tokens and your request has 3500 input tokens",
        # llama.cpp server
        "HTTP 400 exceed_context_size_error: the request exceeds the available context size, "
        "try increasing it",
        # LM Studio, Bedrock, Gemini
        "HTTP 400 Trying to keep the first 9000 tokens when context the overflows. However, "
        "the model is loaded with context length of only 8192 tokens",
        "HTTP 400 ValidationException: Input is too long for requested model.",
        "HTTP 400 The input token count (1200000) exceeds the maximum number of tokens allowed",
    ],
)
def test_providers_ways_of_saying_the_prompt_is_too_long_are_overflows(message: str):
    assert is_context_overflow(ModelError(message))


@pytest.mark.parametrize(
    "message",
    [
        "HTTP 400 invalid_request_error: max_tokens: 128000 > 64000, which is the maximum "
        "allowed number of output tokens for claude-sonnet-4-5",
        "HTTP 400 invalid_request_error: max_tokens is too large: 200000. This model supports "
        "at most 16384 completion tokens, whereas you provided 200000.",
        "HTTP 429 rate_limit_error: This request would exceed the rate limit of 40,000 input "
        "tokens per minute (context: organization)",
        "HTTP 529 overloaded_error: Overloaded",
        "HTTP 401 authentication_error: invalid x-api-key",
        "connection to http://127.0.0.1:9 failed (Connection refused)",
    ],
)
def test_other_errors_and_output_limit_errors_are_not_overflows(message: str):
    assert not is_context_overflow(ModelError(message))


def test_an_overflow_named_only_by_the_cause_is_found():
    try:
        try:
            raise ValueError("prompt is too long: 300000 tokens > 200000 maximum")
        except ValueError as cause:
            raise ModelError("Anthropic request failed") from cause
    except ModelError as error:
        assert is_context_overflow(error)


# ---------------------------------------------------------------- estimates


def test_the_gauge_learns_the_providers_count_from_the_last_request():
    request = ModelRequest("s" * 400, [Message.user("u" * 3600)])
    gauge = TokenGauge()
    raw = gauge.estimate(request)
    gauge.observe(request, Usage(input_tokens=200, cache_read_input_tokens=1300))
    assert gauge.estimate(request) == 1500
    assert gauge.estimate(ModelRequest("s" * 400, [Message.user("u" * 7600)])) > 2 * raw


def test_a_model_reporting_no_usage_leaves_the_estimate_as_it_was():
    request = ModelRequest("system", [Message.user("hello " * 100)])
    gauge = TokenGauge()
    before = gauge.estimate(request)
    gauge.observe(request, Usage())
    assert gauge.estimate(request) == before


@pytest.mark.parametrize(
    ("message", "window"),
    [
        ("HTTP 400 invalid_request_error: prompt is too long: 6633 tokens > 6000 maximum", 6000),
        ("This model's maximum context length is 128000 tokens. However, your", 128_000),
        ("the model is loaded with context length of only 8192 tokens", 8192),
        ("HTTP 400 exceed_context_size_error: the request exceeds the available context", None),
    ],
)
def test_the_window_an_overflow_error_states_is_read_from_it(message: str, window: int | None):
    assert stated_window(ModelError(message)) == window


def test_a_refused_request_teaches_the_compactor_the_real_window():
    compactor = Compactor(ContextBudget(window=100_000, output_reserve=20_000))
    compactor.learn_window(9_000, 6_000)
    assert (compactor.budget.window, compactor.budget.output_reserve) == (6_000, 1_500)
    compactor.learn_window(5_000, None)  # no number in the error: a little under the request
    assert compactor.budget.window == 4_500
    compactor.learn_window(50_000, 80_000)  # never grows
    assert compactor.budget.window == 4_500
