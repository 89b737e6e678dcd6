"""Headless mode (``-p``), compatible with ``claude -p``: text, json or stream-json on stdout.

json and stream-json always end with a ``result`` object, whatever went wrong; stream-json
writes one JSON object per line, flushed as soon as it is known. Exit status: 0 on success,
1 on any error (turn limit and budget included), 130 when cancelled with Ctrl-C, 143 or 129
when ended by SIGTERM or SIGHUP. The run is a session: it is recorded and can be resumed.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.messages import Usage, valid_text
from backend_agent.runtime.events import (
    AgentEvent,
    CompactionFailed,
    ContextCompacted,
    PromptSent,
    ToolResultsSent,
    TurnEnd,
)
from backend_agent.runtime.records import (
    assistant_record,
    compact_boundary_record,
    user_record,
)
from backend_agent.runtime.results import TERMINATED, RunResult, Terminated
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.sessions.signals import terminate_on_signals

OutputFormat = Literal["text", "json", "stream-json"]


@dataclass
class HeadlessOptions:
    """What only headless mode needs: the prompt, the output format, --debug."""

    prompt: str
    output_format: OutputFormat = "text"
    debug: bool = False


class HeadlessOutput:
    """Writes one run's output in the chosen format."""

    def __init__(self, output_format: OutputFormat, out: TextIO) -> None:
        self.format = output_format
        self.out = out
        self.session_id = ""

    def line(self, record: dict[str, Any]) -> None:
        self.out.write(valid_text(json.dumps(record, ensure_ascii=False)) + "\n")
        self.out.flush()

    def init(self, record: dict[str, Any]) -> None:
        self.session_id = record["session_id"]
        if self.format == "stream-json":
            self.line(record)

    def on_event(self, event: AgentEvent) -> None:
        if isinstance(event, CompactionFailed):
            warn_to_stderr(event.message)
        if self.format != "stream-json":
            return
        if isinstance(event, ContextCompacted):
            self.line(compact_boundary_record(event.compaction, self.session_id))
        elif isinstance(event, TurnEnd):
            self.line(assistant_record(event, self.session_id))
        elif isinstance(event, ToolResultsSent) or (
            isinstance(event, PromptSent) and event.origin == "feedback"
        ):  # feedback: what a stop hook or the evidence check sent the model
            self.line(user_record(event, self.session_id))

    def result(self, result: RunResult) -> None:
        if self.format != "text":
            self.line(result.to_json())
        elif result.is_error:
            kind = "" if result.subtype == "error_during_execution" else f"{result.subtype}: "
            print(f"backend-agent: error: {kind}{result.result}", file=sys.stderr)
        else:
            self.out.write(result.result.rstrip("\n") + "\n")
            self.out.flush()


def failed_result(message: str, session_id: str, *, signum: int | None = None) -> RunResult:
    """The result of a run that failed (or was terminated) before or outside the agent loop."""
    return RunResult(
        subtype="error_during_execution",
        result=message,
        session_id=session_id,
        num_turns=0,
        duration_ms=0,
        duration_api_ms=0,
        usage=Usage(),
        total_cost_usd=0.0,
        permission_denials=[],
        cancelled=signum is not None,
        signum=signum,
    )


def run_headless(config: SessionConfig, options: HeadlessOptions, out: TextIO | None = None) -> int:
    """Run ``options.prompt`` in a session to completion and print it; returns the exit status.

    SIGTERM and SIGHUP end it as Ctrl-C does, with a final result for json and stream-json."""
    output = HeadlessOutput(options.output_format, out or sys.stdout)
    with terminate_on_signals():
        result = _run(config, options, output)
        output.result(result)
    if result.error is not None and options.debug:
        import traceback

        traceback.print_exception(result.error)
    return result.exit_code


def _run(config: SessionConfig, options: HeadlessOptions, output: HeadlessOutput) -> RunResult:
    session_id = str(uuid.uuid4())
    try:
        with Session.open(config) as session:
            session_id = session.id
            output.init(session.init_record())
            return session.prompt(options.prompt, output.on_event)
    except Terminated as stop:
        return failed_result(TERMINATED, output.session_id or session_id, signum=stop.signum)
    except Exception as exc:
        result = failed_result(_describe(exc), output.session_id or session_id)
        result.error = exc
        return result


def _describe(exc: Exception) -> str:
    """One line for the result (the traceback goes to stderr with --debug)."""
    if isinstance(exc, UserError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
