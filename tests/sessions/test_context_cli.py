"""Compaction from the command line, with the real provider adapters talking to the local fake
servers: a long session in a small window, recovery from "prompt is too long", the
compact_boundary record, and the flag and settings that tune it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicFake, Reply, prompt_size, tool_use
from fakes.openai_server import ChatReply, OpenAIFake
from fakes.server import RecordedRequest

from backend_agent.runtime.compaction import CONTEXT_TAG, REQUEST_TAG

from .helpers import cli

SUMMARY = "Read the project's files one by one; nothing was changed. Next: answer."
FILE_TEXT = "".join(f"def handler_{n}(request):\n    return {n}\n" for n in range(40))  # 1.3 KB


def is_summary_request(body: dict[str, Any]) -> bool:
    last = body["messages"][-1]["content"]
    texts = [last] if isinstance(last, str) else [b.get("text", "") for b in last]
    return any(REQUEST_TAG in text for text in texts)


class Steps:
    """A scripted conversation for a fake server: the next step for each request of the
    conversation, and a summary for each compaction request."""

    def __init__(self, steps: list[Any], summary: Any) -> None:
        self.steps = steps
        self.summary = summary
        self.taken = 0
        self.summaries = 0

    def __call__(self, request: RecordedRequest) -> Any:
        if is_summary_request(request.body):
            self.summaries += 1
            return self.summary
        step = self.steps[min(self.taken, len(self.steps) - 1)]
        self.taken += 1
        return step


@pytest.fixture
def sources(project: Path) -> Path:
    for n in range(60):
        (project / f"module_{n:02d}.py").write_text(FILE_TEXT)
    return project


def anthropic_env(env: dict[str, str], fake: AnthropicFake, **extra: str) -> dict[str, str]:
    return {**env, "ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": "sk-ant-dummy", **extra}


def stream(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert done.returncode == 0, done.stderr + done.stdout
    return [json.loads(line) for line in done.stdout.splitlines()]


def reading(count: int, first: int = 0) -> list[Reply]:
    calls = [
        Reply.of(tool_use("Read", {"file_path": f"module_{n:02d}.py"}))
        for n in range(first, first + count)
    ]
    return [*calls, Reply.of(f"Read {count} modules.")]


def test_sixty_tool_calls_in_a_20k_window_complete_without_a_request_over_it(
    sources: Path, env: dict[str, str]
) -> None:
    steps = Steps([*reading(30), *reading(30, 30)], Reply.of(SUMMARY))
    with AnthropicFake(steps, context_window=20_000) as fake:
        run_env = anthropic_env(env, fake, BACKEND_AGENT_CONTEXT_WINDOW="20000")
        common = ["--output-format", "stream-json", "--model", "haiku"]
        first = stream(
            cli(["-p", "Read modules 00 to 29, one call each.", *common], run_env, sources)
        )
        second = stream(
            cli(["-c", "-p", "Now modules 30 to 59, the same way.", *common], run_env, sources)
        )

    assert first[-1]["subtype"] == second[-1]["subtype"] == "success"
    assert second[-1]["result"] == "Read 30 modules."
    assert fake.too_long == []
    assert max(prompt_size(r.body) for r in fake.requests) <= 20_000
    assert steps.summaries >= 3
    boundaries = [r for r in first + second if r.get("subtype") == "compact_boundary"]
    assert len(boundaries) == steps.summaries
    assert all(
        b["compact_metadata"]["post_tokens"] < b["compact_metadata"]["pre_tokens"]
        for b in boundaries
    )
    calls = [
        r
        for r in first + second
        if r["type"] == "user" and r["message"]["content"][0].get("type") == "tool_result"
    ]
    assert len(calls) == 60
    late = [
        r.body
        for r in fake.requests
        if not is_summary_request(r.body)
        and CONTEXT_TAG in json.dumps(r.body["messages"][0])
        and "Now modules 30 to 59" in json.dumps(r.body["messages"])
    ]
    assert late, "the second prompt's run compacted too"
    for body in late:
        sent = json.dumps(body["messages"])
        assert "Read modules 00 to 29, one call each." in sent
        assert "Now modules 30 to 59, the same way." in sent


def test_a_prompt_too_long_answer_leads_to_a_compaction_and_success(
    sources: Path, env: dict[str, str]
) -> None:
    """The window is larger than the server's: only the 400 can tell the session."""
    steps = Steps(reading(12), Reply.of(SUMMARY))
    with AnthropicFake(steps, context_window=6_000) as fake:
        run_env = anthropic_env(env, fake, BACKEND_AGENT_CONTEXT_WINDOW="100000")
        done = cli(
            ["-p", "Read twelve modules.", "--output-format", "stream-json", "--model", "haiku"],
            run_env,
            sources,
        )
    records = stream(done)
    assert records[-1]["subtype"] == "success" and records[-1]["result"] == "Read 12 modules."
    assert len(fake.too_long) == 1, "refused once; then the session knows the window"
    boundaries = [r for r in records if r.get("subtype") == "compact_boundary"]
    assert boundaries and steps.summaries == len(boundaries)


def test_an_openai_context_length_exceeded_leads_to_a_compaction_and_success(
    sources: Path, env: dict[str, str]
) -> None:
    calls = [
        ChatReply(tool_calls=[("Read", {"file_path": f"module_{n:02d}.py"})]) for n in range(12)
    ]
    steps = Steps([*calls, ChatReply("Read 12 modules.")], ChatReply(SUMMARY))
    with OpenAIFake(steps, context_window=6_000) as fake:
        run_env = {
            **env,
            "OPENAI_BASE_URL": fake.url,
            "OPENAI_API_KEY": "sk-dummy",
            "BACKEND_AGENT_CONTEXT_WINDOW": "100000",
        }
        done = cli(
            [
                "-p",
                "Read twelve modules.",
                "--output-format",
                "json",
                "--model",
                "openai:gpt-5-mini",
            ],
            run_env,
            sources,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == "Read 12 modules."
    assert len(fake.too_long) == 1 and steps.summaries >= 1


def test_three_failed_compactions_stop_and_the_user_is_told(
    sources: Path, env: dict[str, str]
) -> None:
    steps = Steps(reading(20), Reply.of(tool_use("Read", {"file_path": "module_00.py"})))
    with AnthropicFake(steps) as fake:
        run_env = anthropic_env(env, fake, BACKEND_AGENT_CONTEXT_WINDOW="8000")
        done = cli(
            ["-p", "Read twenty modules.", "--output-format", "json", "--model", "haiku"],
            run_env,
            sources,
        )
    assert done.returncode == 0, done.stderr
    assert steps.summaries == 3
    assert "automatic context compaction stopped after 3 failed attempts" in done.stderr
    assert "answered without a summary" in done.stderr


@pytest.mark.parametrize(
    ("args", "problem", "status"),
    [
        (["--compact-threshold", "150%"], "--compact-threshold '150%'", 2),
        (["--settings", '{"context": {"window": "large"}}'], "--settings: context.window", 1),
    ],
)
def test_a_bad_context_setting_is_one_clear_line(
    project: Path,
    env: dict[str, str],
    script: Callable[..., str],
    args: list[str],
    problem: str,
    status: int,
) -> None:
    done = cli(["-p", "hi", "--model", script(["ok"]), *args], env, project)
    assert done.returncode == status
    assert problem in done.stderr and "Traceback" not in done.stderr


def test_compact_threshold_off_never_compacts(sources: Path, env: dict[str, str]) -> None:
    steps = Steps(reading(8), Reply.of(SUMMARY))
    with AnthropicFake(steps) as fake:
        run_env = anthropic_env(env, fake, BACKEND_AGENT_CONTEXT_WINDOW="8000")
        args = ["-p", "Read eight.", "--output-format", "json", "--model", "haiku"]
        done = cli([*args, "--compact-threshold", "off"], run_env, sources)
    assert done.returncode == 0, done.stderr
    assert steps.summaries == 0
