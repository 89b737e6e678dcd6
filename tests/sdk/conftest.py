"""Fixtures for the Python API's tests: a project, and one model script played three ways —
by the scripted model, and through the official Anthropic and OpenAI SDKs talking to the local
fake servers — so each behaviour is checked with the real adapters too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicFake, Reply, tool_use
from fakes.openai_server import ChatReply, OpenAIFake

from backend_agent.messages import ToolResultBlock
from backend_agent.models.scripted import ScriptedModel

PROVIDERS = ("scripted", "anthropic", "openai")
CREDENTIALS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    return root


@dataclass
class Played:
    """What a model saw: the tool names offered and the tool results sent back, per request."""

    tools: list[list[str]] = field(default_factory=list)
    results: list[list[tuple[str, bool]]] = field(default_factory=list)


class Provider:
    """Plays a script of turns (``"text"`` or ``{"text", "tool_calls": [{"name", "input"}]}``)
    through one provider; ``options(turns)`` are the ``open_session`` options that use it."""

    def __init__(self, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.name = name
        self._monkeypatch = monkeypatch
        self._scripted: list[ScriptedModel] = []
        self._anthropic: AnthropicFake | None = None
        self._openai: OpenAIFake | None = None
        for variable in CREDENTIALS:
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("BACKEND_AGENT_MAX_RETRIES", "0")

    def options(self, turns: list[Any]) -> dict[str, Any]:
        if self.name == "scripted":
            model = ScriptedModel.from_data({"model": "claude-haiku-4-5", "turns": turns})
            self._scripted.append(model)
            return {"model": model}
        if self.name == "anthropic":
            fake = self._anthropic or self._start_anthropic()
            fake.add(*[_anthropic_reply(turn) for turn in turns])
            return {"model": "anthropic:claude-haiku-4-5"}
        fake = self._openai or self._start_openai()
        fake.add(*[_openai_reply(turn) for turn in turns])
        return {"model": "openai:gpt-5-mini"}

    def played(self) -> Played:
        """What the model was sent, request by request (every script played so far)."""
        played = Played()
        if self.name == "scripted":
            for model in self._scripted:
                for request in model.requests:
                    played.tools.append([spec.name for spec in request.tools])
                    last = request.messages[-1].content
                    played.results.append(
                        [(b.content, b.is_error) for b in last if isinstance(b, ToolResultBlock)]
                    )
        elif self._anthropic is not None:
            for recorded in self._anthropic.requests:
                body = recorded.body
                played.tools.append([tool["name"] for tool in body.get("tools", [])])
                content = body["messages"][-1]["content"]
                blocks = content if isinstance(content, list) else []
                played.results.append(
                    [
                        (_text_of(b["content"]), bool(b.get("is_error")))
                        for b in blocks
                        if b["type"] == "tool_result"
                    ]
                )
        elif self._openai is not None:
            for recorded in self._openai.requests:
                body = recorded.body
                played.tools.append([t["function"]["name"] for t in body.get("tools", [])])
                tail = []
                for message in reversed(body["messages"]):
                    if message["role"] != "tool":
                        break
                    text = _text_of(message["content"])
                    tail.insert(0, (text.removeprefix("Error: "), text.startswith("Error: ")))
                played.results.append(tail)
        return played

    def tool_schema(self, name: str) -> dict[str, Any]:
        """The input schema the model was shown for tool ``name`` (in its first request)."""
        if self.name == "scripted":
            specs = self._scripted[0].requests[0].tools
            return next(spec.input_schema for spec in specs if spec.name == name)
        if self._anthropic is not None:
            tools = self._anthropic.requests[0].body["tools"]
            return dict(next(t["input_schema"] for t in tools if t["name"] == name))
        assert self._openai is not None
        tools = self._openai.requests[0].body["tools"]
        return dict(
            next(t["function"]["parameters"] for t in tools if t["function"]["name"] == name)
        )

    def close(self) -> None:
        for fake in (self._anthropic, self._openai):
            if fake is not None:
                fake.stop()

    def _start_anthropic(self) -> AnthropicFake:
        fake = self._anthropic = AnthropicFake()
        fake.start()
        self._monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        self._monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        return fake

    def _start_openai(self) -> OpenAIFake:
        fake = self._openai = OpenAIFake()
        fake.start()
        self._monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        self._monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        return fake


def _turn(turn: Any) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(turn, str):
        return turn, []
    return turn.get("text", ""), list(turn.get("tool_calls", []))


def _anthropic_reply(turn: Any) -> Reply:
    text, calls = _turn(turn)
    blocks: list[dict[str, Any] | str] = [text] if text else []
    blocks += [tool_use(call["name"], call["input"]) for call in calls]
    return Reply.of(*blocks)


def _openai_reply(turn: Any) -> ChatReply:
    text, calls = _turn(turn)
    return ChatReply(text, [(call["name"], call["input"]) for call in calls])


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    """The same script played by the scripted model and by both official SDK adapters."""
    played = Provider(request.param, monkeypatch)
    yield played
    played.close()


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    """The scripted model alone, for behaviour that does not depend on the provider."""
    played = Provider("scripted", monkeypatch)
    yield played
    played.close()


def transcript_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]
