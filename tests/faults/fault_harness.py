"""Headless runs against the fake providers, and the checks every fault test makes.

A run is ``backend-agent -p … --output-format stream-json`` in its own process, with short
stream and retry timeouts; its stdout, transcript, exit status and every process it left
behind are collected for the assertions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.anthropic_server import AnthropicFake, Reply, tool_use
from fakes.openai_server import ChatReply, OpenAIFake
from fakes.server import FakeServer

FAST = {
    "BACKEND_AGENT_STREAM_IDLE_TIMEOUT": "0.5",
    "BACKEND_AGENT_RETRY_BASE_DELAY": "0.01",
    "BACKEND_AGENT_MAX_RETRIES": "3",
}
MARKER = "BACKEND_AGENT_FAULT_RUN"


@dataclass
class Provider:
    """One provider's fake server, how to point the CLI at it, and how to script replies."""

    name: str
    server: FakeServer[Any]
    args: list[str]
    env: dict[str, str]
    text: Callable[[str], Any]
    calls: Callable[..., Any]
    """A reply calling tools: ``calls(("Read", {...}), ("Write", '{broken'))``."""
    cut_off_call: Callable[[str, str], Any]
    """A reply whose tool call is cut off by the output limit (raw, partial arguments)."""


def anthropic(server: AnthropicFake) -> Provider:
    return Provider(
        "anthropic",
        server,
        ["--model", "claude-sonnet-5-5"],
        {"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "sk-ant-fault"},
        lambda text: Reply.of(text),
        lambda *calls: Reply.of(*(tool_use(name, arguments) for name, arguments in calls)),
        lambda name, raw: Reply.of(tool_use(name, raw), stop_reason="max_tokens"),
    )


def openai(server: OpenAIFake) -> Provider:
    return Provider(
        "openai",
        server,
        ["--model", "openai:gpt-5.5", "--base-url", server.url],
        {"OPENAI_API_KEY": "sk-fault"},
        lambda text: ChatReply(text),
        lambda *calls: ChatReply("", list(calls)),
        lambda name, raw: ChatReply("", [(name, raw)], finish_reason="length"),
    )


@dataclass
class Run:
    """What one headless run produced."""

    returncode: int
    records: list[dict[str, Any]]
    stderr: str
    transcript: list[dict[str, Any]]
    strays: list[str]

    @property
    def result(self) -> dict[str, Any]:
        return self.records[-1]

    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool_result block the run sent back, in order."""
        return [
            block
            for record in self.records
            if record["type"] == "user"
            for block in record["message"]["content"]
            if block["type"] == "tool_result"
        ]


def run_agent(
    provider: Provider, project: Path, home: Path, *extra: str, timeout: float = 110
) -> Run:
    """Run the agent headless on ``project``; fails the test if it runs past ``timeout``."""
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        **FAST,
        **provider.env,
        "HOME": str(home),
        "BACKEND_AGENT_HOME": str(home / ".backend-agent"),
        MARKER: marker,
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend_agent",
            "-p",
            "Do the scripted work.",
            "--output-format",
            "stream-json",
            "--permission-mode",
            "bypassPermissions",
            "--sandbox",
            "off",
            *provider.args,
            *extra,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=timeout,
        start_new_session=True,
    )
    records = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    session_id = records[0]["session_id"]
    return Run(
        done.returncode,
        records,
        done.stderr.decode("utf-8", "replace"),
        read_transcript(home / ".backend-agent", session_id),
        survivors(marker),
    )


def read_transcript(backend_home: Path, session_id: str) -> list[dict[str, Any]]:
    """The session's transcript, each line strict UTF-8 JSON."""
    found = [p for p in backend_home.rglob("*.jsonl") if session_id in p.read_text("utf-8")]
    assert len(found) == 1, f"no single transcript for {session_id}: {found}"
    return [json.loads(line) for line in found[0].read_bytes().decode("utf-8").splitlines()]


def survivors(marker: str, grace: float = 5.0) -> list[str]:
    """The run's processes still alive after ``grace`` seconds (helpers that notice the end
    of the run a moment later, like the shell reaper, get that long to go)."""
    deadline = time.monotonic() + grace
    while (alive := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def processes_with(marker: str) -> list[str]:
    """Command lines of live processes whose environment carries ``marker``."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def check_run(run: Run, *, code: int, subtype: str) -> None:
    """The checks every fault test makes on how a run ended."""
    assert run.returncode == code, run.stderr
    assert run.result["type"] == "result" and run.result["subtype"] == subtype, run.result
    assert run.records[0]["type"] == "system" and run.records[0]["subtype"] == "init"
    last = run.transcript[-1]  # the transcript's records add when and where
    assert {key: last.get(key) for key in run.result} == run.result, "a different last record"
    check_conversation(run.transcript)
    assert run.strays == [], f"processes left running: {run.strays}"


def check_conversation(records: list[dict[str, Any]]) -> None:
    """Every tool call in the transcript is answered by the next user record."""
    messages = [r["message"] for r in records if r["type"] in ("assistant", "user")]
    for index, message in enumerate(messages):
        calls = {b["id"] for b in message["content"] if b["type"] == "tool_use"}
        if message["role"] != "assistant" or not calls:
            continue
        assert index + 1 < len(messages), "a tool call was never answered"
        answered = {
            b["tool_use_id"] for b in messages[index + 1]["content"] if b["type"] == "tool_result"
        }
        assert calls == answered
