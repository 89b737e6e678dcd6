"""``backend-agent report``: the Backend Agent Report for a change or a whole repository."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.commands.notes import warn_unread
from backend_agent.errors import UserError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

FORMATS = ("md", "json", "sarif", "html")
# The bar appears only once the work has taken this long, so quick reports stay quiet.
PROGRESS_DELAY_SECONDS = 0.5


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent report",
        description="Write the Backend Agent Report (Plan, Endpoints/Contracts, Database Impact, "
        "Tests, Risks & Rollbacks) from the repository itself: git history, endpoint inventory "
        "and contract diff, migrations and their rules, tests, and security rules. With --base, "
        "it covers the change from that revision to the working tree; without, the whole "
        "repository.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository root (default: .)")
    parser.add_argument(
        "--base", metavar="REV", help="git revision the change starts from (e.g. main, HEAD~1)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="md",
        help="md (the seed's template), json (docs/report.md), sarif (code scanning) or html "
        "(one self-contained page); default: md",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="md/html: list every item; without --base they otherwise show the 20 most severe "
        "per list with counts per rule (json and sarif always hold everything)",
    )
    parser.add_argument(
        "--run-tests", action="store_true", help="run the project's tests and include the results"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    add_debug(parser)
    args = parser.parse_args(argv)

    from backend_agent.analysis import Project, build_report, render

    project = Project(Path(args.path))
    with ProgressBar() as bar:
        report = build_report(project, args.base, args.run_tests, bar.update)
    warn_unread(project)
    text = render(report, args.format, args.full)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror}") from exc
    print(f"backend-agent: wrote {args.output}", file=sys.stderr)
    return 0


class ProgressBar:
    """A rich progress bar on stderr, shown only on a terminal and only after a moment."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._enabled = sys.stderr.isatty()
        self._live: tuple[Progress, TaskID] | None = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live[0].stop()

    def update(self, label: str, done: int, total: int) -> None:
        """Called by the report builder: a step's label, and its progress when it has a size."""
        if not self._enabled or time.monotonic() - self._start < PROGRESS_DELAY_SECONDS:
            return
        if self._live is None:
            self._live = _start_bar(label)
        progress, task = self._live
        progress.update(task, description=label, completed=done, total=total or None)


def _start_bar(label: str) -> tuple[Progress, TaskID]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("[bold]report[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    progress.start()
    return progress, progress.add_task(label, total=None)
