"""The project's tests: the commands that run them (from the stack), running them with a
timeout and reading passed/failed/skipped from each runner's output, and which test files a
change added or modified.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backend_agent.analysis.project import Project
from backend_agent.analysis.stack import Stack, TestRunner

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
OUTPUT_TAIL_LINES = 40
# pytest/unittest, jest/vitest/mocha/Playwright (*.test.ts, *.spec.ts, *.e2e-spec.ts, *.e2e.ts,
# __tests__/), Cypress (*.cy.ts, cypress/e2e|integration|component/), go test, rspec, minitest.
TEST_FILE = re.compile(
    r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|[^/]*\.(test|spec|cy|e2e|e2e-spec)\.[cm]?[jt]sx?|"
    r"[^/]*_test\.go|[^/]*_spec\.rb|[^/]*_test\.rb|test_[^/]*\.rb)$|"
    r"(^|/)(__tests__|cypress/(e2e|integration|component))/([^/]+/)*[^/]+\.[cm]?[jt]sx?$"
)


@dataclass(frozen=True)
class Counts:
    passed: int
    failed: int
    skipped: int


@dataclass
class TestRun:
    """One runner's run: what ran, how it ended and what it counted."""

    runner: str
    command: str
    directory: str
    exit_code: int | None  # None when it timed out
    timed_out: bool
    duration: float  # seconds
    passed: int | None  # None: the output had no summary we could read
    failed: int | None
    skipped: int | None
    output_tail: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.failed

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def is_test_file(path: str) -> bool:
    """A test source file of pytest/unittest, jest/vitest/mocha, Playwright, Cypress, go test,
    rspec or minitest."""
    return bool(TEST_FILE.search(path))


def changed_tests(project_base: Project, project_head: Project) -> list[str]:
    """Test files added or modified between two revisions (or a revision and the work tree)."""
    base_files = set(project_base.files())
    return [
        path
        for path in project_head.files()
        if is_test_file(path)
        and (path not in base_files or project_base.blob(path) != project_head.blob(path))
    ]


def run_tests(
    root: Path,
    stack: Stack,
    timeout: float = 600,
    progress: Callable[[TestRunner], None] | None = None,
) -> list[TestRun]:
    """Run every test runner of the stack in its directory; each gets ``timeout`` seconds."""
    runs = []
    for runner in stack.test_runners:
        if progress is not None:
            progress(runner)
        runs.append(run_one(Path(root), runner, timeout))
    return runs


def run_one(root: Path, runner: TestRunner, timeout: float) -> TestRun:
    """Run one runner in its directory (its whole process group killed after ``timeout``)."""
    cwd = root / runner.directory
    argv = _resolved(_machine_readable(runner), cwd)
    env = {**os.environ, "CI": "1", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return _test_run(runner, None, False, 0.0, f"cannot start {argv[0]}: {exc.strerror}")
    timed_out = False
    try:
        raw, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):  # it may end just as time runs out
            os.killpg(process.pid, signal.SIGKILL)
        raw, _ = process.communicate()
    exit_code = None if timed_out else process.returncode
    output = ANSI.sub("", raw.decode("utf-8", "replace"))
    return _test_run(runner, exit_code, timed_out, time.monotonic() - started, output)


def _test_run(
    runner: TestRunner, exit_code: int | None, timed_out: bool, duration: float, output: str
) -> TestRun:
    """The TestRun of a finished (or unstartable) runner, with the counts its output gives."""
    counts = parse_counts(runner.name, output)
    return TestRun(
        runner=runner.name,
        command=runner.command,
        directory=runner.directory,
        exit_code=exit_code,
        timed_out=timed_out,
        duration=round(duration, 3),
        passed=counts.passed if counts else None,
        failed=counts.failed if counts else None,
        skipped=counts.skipped if counts else None,
        output_tail="\n".join(output.rstrip().splitlines()[-OUTPUT_TAIL_LINES:]),
    )


def _machine_readable(runner: TestRunner) -> list[str]:
    """``go test`` prints per-test results only with ``-json``; everything else runs as is."""
    argv = list(runner.argv)
    if runner.name == "go test" and "-json" not in argv:
        argv.insert(2, "-json")
    return argv


def _resolved(argv: list[str], cwd: Path) -> list[str]:
    """``python`` means the project's virtualenv if it has one, else python/python3 on PATH."""
    if argv and argv[0] == "python":
        for venv in (".venv", "venv"):
            candidate = cwd / venv / "bin" / "python"
            if candidate.exists():
                return [str(candidate), *argv[1:]]
        found = shutil.which("python") or shutil.which("python3")
        if found:
            return [found, *argv[1:]]
    return argv


# --- output parsers ------------------------------------------------------------------------


def parse_counts(runner: str, output: str) -> Counts | None:
    """Passed/failed/skipped from a runner's output; None when no summary is found."""
    parser = PARSERS.get(runner)
    if parser is not None:
        return parser(output)
    for candidate in PARSERS.values():  # a custom "test" script: try every format
        found = candidate(output)
        if found is not None:
            return found
    return None


def _numbers(text: str, pattern: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for count, word in re.findall(pattern, text, re.MULTILINE):
        totals[word] = totals.get(word, 0) + int(count)
    return totals


def _pytest(output: str) -> Counts | None:
    summary = [
        line
        for line in output.splitlines()
        if re.search(r"\d+ (passed|failed|skipped|error)", line)
        and re.search(r"\bin [\d.]+s", line)
    ]
    if not summary:
        return None
    n = _numbers(summary[-1], r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")
    return Counts(
        n.get("passed", 0) + n.get("xpassed", 0),
        n.get("failed", 0) + n.get("error", 0) + n.get("errors", 0),
        n.get("skipped", 0) + n.get("xfailed", 0),
    )


def _unittest(output: str) -> Counts | None:
    ran = re.findall(r"^Ran (\d+) tests? in", output, re.M)
    if not ran:
        return None
    total = int(ran[-1])
    result = re.findall(r"^(OK|FAILED)\b(?: \((.*)\))?\s*$", output, re.M)
    details = dict(re.findall(r"(\w+)=(\d+)", result[-1][1])) if result else {}
    failed = int(details.get("failures", 0)) + int(details.get("errors", 0))
    skipped = int(details.get("skipped", 0)) + int(details.get("expected failures", 0))
    return Counts(total - failed - skipped, failed, skipped)


def _jest(output: str) -> Counts | None:
    lines = re.findall(r"^Tests:\s+(.*)$", output, re.M)
    if not lines:
        return None
    n = _numbers(lines[-1], r"(\d+) (passed|failed|skipped|todo|pending)")
    skipped = n.get("skipped", 0) + n.get("todo", 0) + n.get("pending", 0)
    return Counts(n.get("passed", 0), n.get("failed", 0), skipped)


def _vitest(output: str) -> Counts | None:
    lines = re.findall(r"^\s*Tests\s+(\d+ .*)$", output, re.M)
    if not lines:
        return None
    n = _numbers(lines[-1], r"(\d+) (passed|failed|skipped|todo)")
    return Counts(n.get("passed", 0), n.get("failed", 0), n.get("skipped", 0) + n.get("todo", 0))


def _mocha(output: str) -> Counts | None:
    n = _numbers(output, r"^\s*(\d+) (passing|failing|pending)\b")
    if not n:
        return None
    return Counts(n.get("passing", 0), n.get("failing", 0), n.get("pending", 0))


def _tap(output: str) -> Counts | None:
    """TAP: node-tap's ``# { total, pass, fail, skip }``, node:test's ``# pass N`` lines, else
    the top-level ``ok`` / ``not ok`` lines."""
    objects = re.findall(r"^# \{ ([^}]*) \}\s*$", output, re.M)
    summary = (
        dict((k, int(v)) for k, v in re.findall(r"(\w+): (\d+)", objects[-1])) if objects else {}
    )
    summary |= {
        word: int(count)
        for word, count in re.findall(r"^# (pass|fail|skipped|skip|todo) (\d+)\s*$", output, re.M)
    }
    if summary:
        skipped = summary.get("skipped", summary.get("skip", 0)) + summary.get("todo", 0)
        return Counts(summary.get("pass", 0), summary.get("fail", 0), skipped)
    results = re.findall(r"^(ok|not ok) \d+\b([^\n]*)", output, re.M)
    if not results:
        return None
    skipped = sum(1 for _, rest in results if re.search(r"#\s*(SKIP|TODO)", rest, re.I))
    failed = sum(1 for status, _ in results if status == "not ok")
    return Counts(len(results) - failed - skipped, failed, skipped)


def _ava(output: str) -> Counts | None:
    """ava prints ``N tests passed`` only when nothing failed; otherwise count the ✔ lines."""
    n = _numbers(output, r"^\s*(\d+) tests? (passed|failed|skipped|todo)\b")
    if not n:
        return None
    passed = n.get("passed", len(re.findall(r"^\s*✔", output, re.M)))
    return Counts(passed, n.get("failed", 0), n.get("skipped", 0) + n.get("todo", 0))


def _playwright(output: str) -> Counts | None:
    """Playwright's list/line reporters end with ``N passed (4.2s)``, ``N failed``, ``N flaky``
    (passed on a retry) and ``N skipped`` lines."""
    n = _numbers(output, r"^\s*(\d+) (passed|failed|flaky|skipped|interrupted)(?= \(|\s*$)")
    if not n:
        return None
    failed = n.get("failed", 0) + n.get("interrupted", 0)
    return Counts(n.get("passed", 0) + n.get("flaky", 0), failed, n.get("skipped", 0))


_CYPRESS_TOTAL = re.compile(
    r"(?:All specs passed!|\d+ of \d+ failed \(\d+%\))\s+[\d:]+"
    r"\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)"
)


def _cypress(output: str) -> Counts | None:
    """Cypress's run summary: ``✔  All specs passed!  00:02  3  3  -  -  -`` (tests, passing,
    failing, pending, skipped; ``-`` is none)."""
    totals = _CYPRESS_TOTAL.findall(output)
    if not totals:
        return None
    _tests, passing, failing, pending, skipped = (0 if v == "-" else int(v) for v in totals[-1])
    return Counts(passing, failing, pending + skipped)


def _go(output: str) -> Counts | None:
    """``go test -json`` events: the final action of each test (subtests included)."""
    final: dict[tuple[str, str], str] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("Test") and event.get("Action") in ("pass", "fail", "skip"):
            final[(event.get("Package", ""), event["Test"])] = event["Action"]
    if not final:
        verbose = dict(Counter(re.findall(r"^\s*--- (PASS|FAIL|SKIP):", output, re.M)))
        if not verbose:
            return None
        return Counts(verbose.get("PASS", 0), verbose.get("FAIL", 0), verbose.get("SKIP", 0))
    actions = list(final.values())
    return Counts(actions.count("pass"), actions.count("fail"), actions.count("skip"))


def _rspec(output: str) -> Counts | None:
    found = re.findall(r"^(\d+) examples?, (\d+) failures?(?:, (\d+) pending)?", output, re.M)
    if not found:
        return None
    total, failed, pending = (int(x or 0) for x in found[-1])
    return Counts(total - failed - pending, failed, pending)


def _minitest(output: str) -> Counts | None:
    found = re.findall(
        r"^(\d+) (?:runs|tests), \d+ assertions, (\d+) failures, (\d+) errors, (\d+) skips",
        output,
        re.M,
    )
    if not found:
        return None
    runs, failures, errors, skips = (int(x) for x in found[-1])
    return Counts(runs - failures - errors - skips, failures + errors, skips)


PARSERS: dict[str, Callable[[str], Counts | None]] = {
    "pytest": _pytest,
    "unittest": _unittest,
    "django": _unittest,
    "jest": _jest,
    "vitest": _vitest,
    "mocha": _mocha,
    "tap": _tap,
    "node:test": _tap,
    "ava": _ava,
    "playwright": _playwright,
    "cypress": _cypress,
    "go test": _go,
    "rspec": _rspec,
    "minitest": _minitest,
}
