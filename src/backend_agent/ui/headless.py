"""Headless mode (``-p``), compatible with ``claude -p``: text, json or stream-json on stdout.

json and stream-json always end with a ``result`` object, whatever went wrong; stream-json
writes one JSON object per line, flushed as soon as it is known. Exit status: 0 on success,
1 on any error (turn limit and budget included), 130 when cancelled with Ctrl-C.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any, TextIO

from backend_agent.errors import UserError
from backend_agent.messages import Usage, valid_text
from backend_agent.runtime.agent import RunResult
from backend_agent.runtime.events import AgentEvent, ToolResultsSent, TurnEnd
from backend_agent.runtime.options import OutputFormat, RunOptions
from backend_agent.runtime.records import assistant_record, result_record, user_record


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
        if self.format != "stream-json":
            return
        if isinstance(event, TurnEnd):
            self.line(assistant_record(event, self.session_id))
        elif isinstance(event, ToolResultsSent):
            self.line(user_record(event, self.session_id))

    def result(self, result: RunResult) -> None:
        if self.format != "text":
            self.line(result_record(result))
        elif result.is_error:
            kind = "" if result.subtype == "error_during_execution" else f"{result.subtype}: "
            print(f"backend-agent: error: {kind}{result.result}", file=sys.stderr)
        else:
            self.out.write(result.result.rstrip("\n") + "\n")
            self.out.flush()


def failed_result(message: str, session_id: str) -> RunResult:
    """The result of a run that failed before or outside the agent loop."""
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
    )


def run_headless(options: RunOptions, out: TextIO | None = None) -> int:
    """Run ``options.prompt`` to completion and print it; returns the exit status."""
    from backend_agent.runtime.assembly import assemble

    if options.prompt is None:
        raise UserError('headless mode needs a prompt: -p "PROMPT"')
    prompt = options.prompt
    output = HeadlessOutput(options.output_format, out or sys.stdout)
    try:
        assembled = assemble(options, interactive=False)
    except Exception as exc:
        output.result(failed_result(_describe(exc, options.debug), str(uuid.uuid4())))
        return 1
    try:
        output.init(assembled.init_record())

        def on_event(event: AgentEvent) -> None:
            output.on_event(event)
            assembled.transcript.on_event(event)

        try:
            result = assembled.agent.run(prompt, on_event)
        except Exception as exc:
            result = failed_result(_describe(exc, options.debug), assembled.agent.session_id)
        if result.failure is not None:
            _describe(result.failure, options.debug)
        assembled.transcript.on_result(result)
        output.result(result)
    finally:
        assembled.close()
    if not result.is_error:
        return 0
    return 130 if result.cancelled else 1


def _describe(exc: Exception, debug: bool) -> str:
    """One line for the result (the traceback goes to stderr with --debug)."""
    if debug:
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, UserError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
