"""``ProjectEvidence``: the evidence of one project's change, measured from the session's
start or a git revision, computed once per state of the changed files.

The session's check and the ``backend`` tools share one, so a report checked right after the
model called ``database_impact`` costs no second scan.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.errors import UserError
from backend_agent.evidence.change import Change, since_revision

if TYPE_CHECKING:
    from backend_agent.analysis.report import Report
    from backend_agent.analysis.report.model import TestResult, TestRunnerInfo

# (step, done, total), as the engine reports progress; total 0 when not known yet.
Progress = Callable[[str, int, int], None]

SESSION_START = "start"
SESSION_START_LABEL = "the session's start"

Fingerprint = tuple[object, ...]


class ProjectEvidence:
    """The engine over the project at ``root``. ``since_start`` gives the change since the
    session's first prompt (None outside a session: changes are then measured from a git
    revision, ``HEAD`` by default); ``test_results`` the test runs seen in the session."""

    def __init__(
        self,
        root: Path,
        *,
        since_start: Callable[[], Change] | None = None,
        test_results: Callable[[], list[TestResult] | None] | None = None,
    ) -> None:
        self.root = root
        self.since_start = since_start
        self.test_results = test_results
        self._cached: tuple[Fingerprint, Report] | None = None
        self._runners: tuple[Fingerprint, list[TestRunnerInfo]] | None = None

    def change(self, since: str | None = None) -> Change:
        """The change from ``since``: "start" (the session's start, the default in a session)
        or a git revision (``HEAD``, the default outside one). UserError if impossible."""
        if since in (None, "", SESSION_START) and self.since_start is not None:
            return self.since_start()
        if since == SESSION_START:
            raise UserError('"start" needs a session; give a git revision instead')
        return since_revision(self.root, since or "HEAD")

    def report(self, since: str | None = None, progress: Progress | None = None) -> Report:
        """The engine's report of the change from ``since`` (see ``change``)."""
        return self.measure(self.change(since), progress)

    def measure(self, change: Change, progress: Progress | None = None) -> Report:
        """The engine's report of ``change``; the same files in the same state give the
        report computed last time."""
        results = self.test_results() if self.test_results is not None else None
        fingerprint = _fingerprint(change, results)
        if self._cached is not None and self._cached[0] == fingerprint:
            return self._cached[1]
        from backend_agent.evidence.collect import collect_evidence

        report = collect_evidence(
            change, test_results=results, runners=self._test_runners(change), progress=progress
        )
        self._cached = (fingerprint, report)
        return report

    def _test_runners(self, change: Change) -> list[TestRunnerInfo]:
        """The test runners, found again only when a file other than code changed (a
        manifest, a config): reading every manifest is the dearest part of a small change."""
        from backend_agent.evidence.collect import test_runners

        others = tuple(state for state in _file_states(change) if not _is_code(state[0]))
        key: Fingerprint = (str(change.after.root), others)
        if self._runners is None or self._runners[0] != key:
            self._runners = (key, test_runners(change.after))
        return self._runners[1]


_CODE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rb", ".sql")


def _is_code(path: str) -> bool:
    return path.endswith(_CODE_SUFFIXES)


FileState = tuple[str, str, int, int]  # path, status, size, modification time (ns)


def _file_states(change: Change) -> tuple[FileState, ...]:
    """Each changed file as it is now, cheaply: status, size and modification time."""
    states = []
    for path in change.paths:
        try:
            stat = os.stat(change.after.root / path)
            states.append((path, change.statuses[path], stat.st_size, stat.st_mtime_ns))
        except OSError:
            states.append((path, change.statuses[path], -1, -1))
    return tuple(states)


def _fingerprint(change: Change, results: list[TestResult] | None) -> Fingerprint:
    """What the evidence depends on: the base, the changed files' states, the test runs."""
    runs = tuple((r.command, r.exit_code, r.passed, r.failed) for r in results or ())
    return (str(change.after.root), change.base, _file_states(change), results is None, runs)
