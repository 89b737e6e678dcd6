"""Test runs seen in a conversation: Bash calls that ran a test command, with the counts the
engine's parsers read from their output. They back a report's claim that tests were run."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from backend_agent.messages import Message, ToolResultBlock, ToolUseBlock

if TYPE_CHECKING:
    from backend_agent.analysis.report.model import TestResult

_TEST_COMMAND = re.compile(
    r"\b(pytest|py\.test|unittest|jest|vitest|mocha|ava|tap|rspec|minitest|"
    r"go\s+test|npm\s+(run\s+)?test|yarn\s+test|pnpm\s+test|rake\s+test|rails\s+test|"
    r"manage\.py\s+test|tox|nox)\b"
)
_EXIT_CODE = re.compile(r"^Exit code (\d+)", re.MULTILINE)


def test_runs(messages: Iterable[Message]) -> list[TestResult] | None:
    """Every Bash call of ``messages`` that ran tests and printed a summary the engine reads;
    None when there was none."""
    commands: dict[str, str] = {}
    runs: list[TestResult] = []
    for message in messages:
        for block in message.content:
            if isinstance(block, ToolUseBlock) and block.name == "Bash":
                command = block.input.get("command")
                if isinstance(command, str) and _TEST_COMMAND.search(command):
                    commands[block.id] = command
            elif isinstance(block, ToolResultBlock) and block.tool_use_id in commands:
                run = _result(commands.pop(block.tool_use_id), block.content)
                if run is not None:
                    runs.append(run)
    return runs or None


def _result(command: str, output: str) -> TestResult | None:
    from backend_agent.analysis.report.model import TestResult
    from backend_agent.analysis.testsuite import parse_counts

    counts = parse_counts("", output)
    if counts is None:
        return None
    code = _EXIT_CODE.search(output)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    runner = _TEST_COMMAND.search(command)
    name = re.sub(r"\s+", " ", runner.group(1)) if runner else "tests"
    return TestResult(
        name,
        command,
        ".",
        int(code.group(1)) if code else 0,
        False,
        0.0,
        counts.passed,
        counts.failed,
        counts.skipped,
        lines[-1] if lines else "",
    )
