"""``backend-agent tests``: the project's test commands, their results with ``--run``, and the
test files a change added or modified with ``--base``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from backend_agent.analysis import Project, detect_stack
from backend_agent.analysis.stack import TestRunner
from backend_agent.analysis.testsuite import TestRun, changed_tests, run_tests
from backend_agent.commands.arguments import CommandParser, add_debug, positive_float
from backend_agent.commands.notes import warn_unread


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent tests",
        description="List the commands that run the project's tests (pytest, unittest/Django, "
        "jest, vitest, mocha, tap, node:test, ava, go test, rspec, minitest), run them with "
        "--run, and list test files added or changed since --base. With --run the exit code "
        "is 1 when any run fails or times out.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository root (default: .)")
    parser.add_argument("--run", action="store_true", help="run the tests and count results")
    parser.add_argument("--base", metavar="REV", help="list test files changed since REV")
    parser.add_argument(
        "--timeout", type=positive_float, default=600, metavar="S", help="per runner (default 600)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_debug(parser)
    args = parser.parse_args(argv)

    head = Project(Path(args.path))
    stack = detect_stack(head)
    warn_unread(head)
    changed = changed_tests(head.at(args.base), head) if args.base else None
    runs: list[TestRun] | None = None
    if args.run:

        def progress(runner: TestRunner) -> None:
            print(f"running {runner.name} in {runner.directory}: {runner.command}", file=sys.stderr)

        runs = run_tests(head.root, stack, args.timeout, progress)
    data: dict[str, Any] = {
        "runners": [r.as_dict() for r in stack.test_runners],
        "changed_tests": changed,
        "runs": [r.as_dict() for r in runs] if runs is not None else None,
    }
    print(json.dumps(data, indent=2) if args.format == "json" else _table(data))
    return 1 if runs and not all(r.ok for r in runs) else 0


def _table(data: dict[str, Any]) -> str:
    lines = ["test runners:"]
    for runner in data["runners"]:
        lines.append(f"  {runner['name']:<10} {runner['directory']:<16} {runner['command']}")
    if not data["runners"]:
        lines.append("  none found")
    if data["changed_tests"] is not None:
        lines.append("test files added or changed:")
        lines += [f"  {path}" for path in data["changed_tests"]] or ["  none"]
    if data["runs"] is not None:
        lines.append("results:")
        for run in data["runs"]:
            lines.append(f"  {run['runner']:<10} {run['directory']:<16} {_outcome(run)}")
    return "\n".join(lines)


def _outcome(run: dict[str, Any]) -> str:
    if run["timed_out"]:
        return f"timed out after {run['duration']:.0f} s"
    if run["passed"] is None:
        status = "ok" if run["ok"] else f"failed (exit {run['exit_code']})"
        return f"{status}, no summary found in the output"
    counts = f"{run['passed']} passed, {run['failed']} failed, {run['skipped']} skipped"
    return f"{counts} ({run['duration']:.1f} s){'' if run['ok'] else '  FAILED'}"
