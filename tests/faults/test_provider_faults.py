"""Every provider fault ends a headless run with a result record, nothing lost and nothing left
running: HTTP errors, broken and stalled streams, error events, and unusable model output.

Each run first writes a file and starts a background shell, then meets the fault. The tests
check the exit status, the result's subtype, how many requests reached the server (the
retries), the transcript, the files on disk and that no process of the run survives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic_server import ErrorReply, StreamErrorReply
from fakes.openai_server import ChatErrorReply, ChatStreamErrorReply
from fakes.server import StreamFault
from fault_harness import Provider, check_run, run_agent

BEFORE_THE_FAULT = "written before the fault\n"
RETRY_FAST = {"retry-after-ms": "20"}


@dataclass(frozen=True)
class Fault:
    """A failure of the model request after the first turn, as each provider words it."""

    anthropic: Any
    openai: Any
    tries: int  # requests for the faulted turn
    recovers: bool  # the last try succeeds
    message: str = ""  # what the result says when the run fails

    def reply(self, provider: Provider) -> Any:
        return self.anthropic if provider.name == "anthropic" else self.openai


def status(code: int, kind: str, **headers: str) -> tuple[ErrorReply, ChatErrorReply]:
    return (
        ErrorReply(code, kind, f"fault {code}", dict(headers)),
        ChatErrorReply(code, f"fault {code}", kind, dict(headers)),
    )


FAULTS = {
    "429-retry-after": Fault(*status(429, "rate_limit_error", **RETRY_FAST), 2, True),
    "529-overloaded": Fault(*status(529, "overloaded_error"), 2, True),
    "500": Fault(*status(500, "api_error"), 2, True),
    "502": Fault(*status(502, "api_error"), 2, True),
    "503": Fault(*status(503, "api_error"), 2, True),
    "503-persistent": Fault(*status(503, "api_error"), 4, False, "after 4 tries: HTTP 503"),
    "reset-mid-stream": Fault(StreamFault("reset"), StreamFault("reset"), 2, True),
    "stall-silent": Fault(
        StreamFault("stall"), StreamFault("stall"), 2, False, "the stream stalled"
    ),
    "stall-keepalives": Fault(
        StreamFault("stall-keepalive"),
        StreamFault("stall-keepalive"),
        2,
        False,
        "no content for 0.5 s",
    ),
    "malformed-sse": Fault(
        StreamFault("malformed"), StreamFault("malformed"), 2, False, "malformed stream"
    ),
    "error-event-overloaded": Fault(
        StreamErrorReply("overloaded_error", "Overloaded"),
        ChatStreamErrorReply("The server is overloaded", "server_is_overloaded"),
        2,
        True,
    ),
    "error-event-invalid-request": Fault(
        StreamErrorReply("invalid_request_error", "tool grammar failed"),
        ChatStreamErrorReply("tool grammar failed", "invalid_request_error"),
        1,
        False,
        "tool grammar failed",
    ),
}


def first_turn(provider: Provider) -> Any:
    """A file written and a background shell started, before any fault."""
    return provider.calls(
        ("Write", {"file_path": "out.txt", "content": BEFORE_THE_FAULT}),
        ("Bash", {"command": "sleep 600", "run_in_background": True}),
    )


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_after_the_first_turn(
    provider: Provider, project: Path, home: Path, name: str
) -> None:
    fault = FAULTS[name]
    replies = [first_turn(provider), *[fault.reply(provider)] * fault.tries]
    if fault.recovers:
        replies[-1] = provider.text("All done.")
    provider.server.add(*replies)

    run = run_agent(provider, project, home)

    assert len(provider.server.requests) == 1 + fault.tries
    assert (project / "out.txt").read_text() == BEFORE_THE_FAULT
    if fault.recovers:
        check_run(run, code=0, subtype="success")
        assert run.result["result"] == "All done." and run.result["num_turns"] == 2
        return
    check_run(run, code=1, subtype="error_during_execution")
    assert fault.message in run.result["result"]
    assert provider.server.url in run.result["result"]  # the endpoint that failed
    assert run.result["num_turns"] == 1  # the turn before the fault still counts
    assert run.result["usage"]["output_tokens"] > 0


def test_invalid_tool_json_is_answered_with_an_error_and_the_run_goes_on(
    provider: Provider, project: Path, home: Path
) -> None:
    provider.server.add(
        provider.calls(("Write", '{"file_path": "out.txt", "content": "half')),
        provider.text("Sorry, resending later."),
    )

    run = run_agent(provider, project, home)

    check_run(run, code=0, subtype="success")
    assert len(provider.server.requests) == 2
    assert not (project / "out.txt").exists()
    [result] = run.tool_results()
    assert result["is_error"] and "not valid JSON" in str(result["content"])
    assert "was not run" in str(result["content"])


def test_an_unknown_tool_is_answered_with_an_error_and_the_run_goes_on(
    provider: Provider, project: Path, home: Path
) -> None:
    provider.server.add(
        provider.calls(("Deploy", {"environment": "production"})), provider.text("Understood.")
    )

    run = run_agent(provider, project, home)

    check_run(run, code=0, subtype="success")
    assert len(provider.server.requests) == 2
    [result] = run.tool_results()
    assert result["is_error"] and "No such tool: Deploy" in str(result["content"])
    assert list(project.iterdir()) == []


def test_a_5_mb_text_block_arrives_whole(provider: Provider, project: Path, home: Path) -> None:
    text = "".join(f"line {n:07d} of a very long answer\n" for n in range(160_000))
    assert len(text) > 5_000_000
    provider.server.add(provider.text(text))

    run = run_agent(provider, project, home)

    check_run(run, code=0, subtype="success")
    assert len(provider.server.requests) == 1
    assert run.result["result"].rstrip("\n") == text.rstrip("\n")


def test_a_tool_call_cut_off_by_max_tokens_is_not_run(
    provider: Provider, project: Path, home: Path
) -> None:
    original = "a = 1\nb = 2\n"
    (project / "app.py").write_text(original)
    cut = (
        '{"file_path": "app.py", "edits": [{"old_string": "a = 1", "new_string": "a = 10"}, '
        '{"old_string": "b = 2", "new_st'
    )
    provider.server.add(
        provider.calls(("Read", {"file_path": "app.py"})),
        provider.cut_off_call("MultiEdit", cut),
        provider.text("I will split the edit."),
    )

    run = run_agent(provider, project, home)

    check_run(run, code=0, subtype="success")
    assert len(provider.server.requests) == 3
    assert (project / "app.py").read_text() == original
    result = run.tool_results()[-1]
    assert result["is_error"] and "output token limit (max_tokens)" in str(result["content"])
