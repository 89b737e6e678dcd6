"""``backend-agent batch``: many tasks over many repositories, locally or on a Ray cluster,
with live progress on stderr and a summary table at the end."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.commands.arguments import CommandParser, add_debug, positive_float, positive_int
from backend_agent.definitions import PERMISSION_MODES
from backend_agent.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from backend_agent.batch import BatchDefaults, BatchOutcome, BatchProgress, Task
    from backend_agent.batch.executor import Executor

REPORT_FORMATS = ("md", "json", "sarif", "html")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="backend-agent batch",
        description="Run many tasks over many repositories: each task a prompt run as its own "
        "session, or a report. Results are appended to DIR/results.jsonl as tasks finish, "
        "transcripts and reports kept under DIR/tasks/<id>/; --resume continues a stopped "
        "batch. See docs/batch.md.",
        epilog="examples:\n"
        "  backend-agent batch tasks.yaml --workers 4 --permission-mode acceptEdits\n"
        "  backend-agent batch tasks.jsonl --executor ray --ray-address ray://head:10001\n"
        "  backend-agent batch tasks.yaml --resume              # only what is left\n"
        "  backend-agent batch --report-all svc-a svc-b https://git.example.com/svc-c.git "
        "--format html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "tasks",
        nargs="?",
        type=Path,
        metavar="TASKS",
        help="tasks file: .jsonl (a task per line) or .yaml (a list, or {defaults, tasks})",
    )
    parser.add_argument(
        "--report-all",
        nargs="+",
        metavar="REPO",
        help="instead of TASKS: a report on each repository (path or git URL) and one "
        "org-wide report across them, DIR/org-report.<format>",
    )
    parser.add_argument(
        "--format",
        choices=REPORT_FORMATS,
        help="with --report-all: the reports' format (default: html)",
    )
    parser.add_argument("--base", metavar="REV", help="with --report-all: report the change")
    parser.add_argument(
        "--out", type=Path, default=Path("batch-out"), metavar="DIR", help="default: batch-out"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the batch in DIR: skip the tasks results.jsonl has",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="with --resume: run failed tasks again"
    )
    group = parser.add_argument_group("where tasks run")
    group.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: a process per task on this machine (default); ray: Ray tasks on a "
        "cluster (pip install 'backend-agent[ray]')",
    )
    group.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="tasks at once (default: the CPUs here, or the Ray cluster's)",
    )
    group.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="a Ray cluster (auto, HOST:PORT or ray://HOST:10001); none: a local cluster",
    )
    group.add_argument(
        "--ray-env",
        action="append",
        default=[],
        metavar="NAME",
        help="pass this environment variable (e.g. ANTHROPIC_API_KEY) to the Ray workers; "
        "repeatable",
    )
    group = parser.add_argument_group("defaults for every task (a task's own fields win)")
    group.add_argument("--permission-mode", choices=PERMISSION_MODES)
    group.add_argument("--model", metavar="MODEL")
    group.add_argument("--max-turns", type=positive_int, metavar="N")
    group.add_argument(
        "--max-budget-usd", type=positive_float, metavar="USD", help="per prompt task"
    )
    group.add_argument(
        "--total-budget-usd",
        type=positive_float,
        metavar="USD",
        help="no new task starts once the batch (earlier runs included) has spent this",
    )
    group.add_argument(
        "--timeout", type=positive_float, metavar="SECONDS", help="stop a task after this long"
    )
    add_debug(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if (args.tasks is None) == (args.report_all is None):
        raise UserError("give a TASKS file or --report-all REPO..., not both")
    from backend_agent.batch import BatchOptions, load_tasks, report_tasks, run_batch
    from backend_agent.sessions.signals import terminate_on_signals

    if args.tasks is not None and (args.format or args.base):
        raise UserError("--format and --base go with --report-all (a task has its own)")
    args.format = args.format or "html"
    if args.tasks is not None:
        loaded = load_tasks(args.tasks)
        tasks, defaults = loaded.tasks, _with_flags(loaded.defaults, args)
    else:
        tasks = report_tasks(args.report_all, args.format, args.base)
        defaults = _with_flags(None, args)
    options = BatchOptions(args.out, defaults, resume=args.resume, retry_failed=args.retry_failed)
    display = ProgressDisplay(_stderr())
    try:
        with terminate_on_signals(), closing(_executor(args, defaults, tasks)) as executor, display:
            outcome = run_batch(tasks, executor, options, display.update)
    except KeyboardInterrupt as stop:
        print(
            f"backend-agent: batch stopped; finished tasks are in {args.out / 'results.jsonl'}: "
            "rerun with --resume to do the rest",
            file=sys.stderr,
        )
        return 128 + int(getattr(stop, "signum", 2))
    print_summary(outcome, args.out, tasks, _stdout())
    if args.report_all is not None:
        from backend_agent.batch import write_org_report

        written = write_org_report(args.out.resolve(), outcome.results, args.format)
        print(f"backend-agent: wrote {written}", file=sys.stderr)
    return 0 if outcome.all_ok else 1


def _with_flags(defaults: BatchDefaults | None, args: argparse.Namespace) -> BatchDefaults:
    """The file's defaults with the command line's flags over them."""
    from backend_agent.batch import BatchDefaults

    flags = {
        "permission_mode": args.permission_mode,
        "model": args.model,
        "max_turns": args.max_turns,
        "max_budget_usd": args.max_budget_usd,
        "total_budget_usd": args.total_budget_usd,
        "timeout": args.timeout,
        "workers": args.workers,
    }
    given = {k: v for k, v in flags.items() if v is not None}
    if args.model and args.model.startswith("scripted:"):  # tasks run in other directories
        given["model"] = "scripted:" + str(Path(args.model.removeprefix("scripted:")).resolve())
    return (defaults or BatchDefaults()).model_copy(update=given)


def _executor(args: argparse.Namespace, defaults: BatchDefaults, tasks: list[Task]) -> Executor:
    if args.executor == "ray":
        from backend_agent.batch import RayExecutor

        missing = [name for name in args.ray_env if name not in os.environ]
        if missing:
            raise UserError(f"--ray-env {missing[0]}: not set in this environment")
        env = {name: os.environ[name] for name in args.ray_env}
        return RayExecutor(args.ray_address, defaults.workers, env_vars=env)
    if args.ray_address or args.ray_env:
        raise UserError("--ray-address and --ray-env need --executor ray")
    from backend_agent.batch import LocalExecutor

    prompts = any(task.kind == "prompt" for task in tasks)
    return LocalExecutor(defaults.workers or os.cpu_count() or 1, preload_models=prompts)


class ProgressDisplay:
    """Tasks done/running/failed, cost so far and ETA on stderr: a live line on a terminal,
    one line per finished task otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Live | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(console=self.console, transient=True, refresh_per_second=4)
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()

    def update(self, progress: BatchProgress) -> None:
        last = progress.last
        if last is not None:
            mark = "[green]ok[/]" if last.status == "ok" else "[red]failed[/]"
            self.console.print(
                f"[{progress.done}/{progress.total}] {mark} {last.id} "
                f"({last.duration_ms / 1000:.1f} s, ${last.cost_usd:.4f})"
                + ("" if last.status == "ok" else f": {_one_line(last.result, 100)}"),
                highlight=False,
            )
        if self._live is not None:
            self._live.update(status_line(progress))


def status_line(progress: BatchProgress) -> str:
    """``12/40 done · 2 running · 1 failed · $0.42 · ETA 1m30s``."""
    eta = progress.eta_seconds
    parts = [
        f"{progress.done}/{progress.total} done",
        f"{len(progress.running)} running",
        f"{progress.failed} failed",
        f"${progress.cost_usd:.2f}",
        f"ETA {_duration(eta)}" if eta is not None else "ETA …",
    ]
    return "batch: " + " · ".join(parts)


def print_summary(outcome: BatchOutcome, out: Path, tasks: list[Task], console: Console) -> None:
    """The final table (a row per task) and one line of totals."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "kind", "status", "subtype", "time", "cost", "changed", "result"):
        table.add_column(column, no_wrap=column != "result", overflow="fold")
    for result in outcome.results:
        table.add_row(
            result.id,
            result.kind,
            "[green]ok[/]" if result.status == "ok" else "[red]failed[/]",
            result.subtype,
            f"{result.duration_ms / 1000:.1f} s",
            f"${result.cost_usd:.4f}",
            str(len(result.changed_files)),
            _one_line(result.result, 80),
        )
    for task_id in outcome.not_started:
        kind = next(t.kind for t in tasks if t.id == task_id)
        table.add_row(task_id, kind, "[yellow]not started[/]", "", "", "", "", "total budget spent")
    console.print(table)
    ok = sum(r.status == "ok" for r in outcome.results)
    line = f"{ok} ok, {len(outcome.results) - ok} failed"
    if outcome.not_started:
        line += f", {len(outcome.not_started)} not started (total budget spent)"
    console.print(
        f"{line}; ${outcome.cost_usd:.4f} spent; results in {out / 'results.jsonl'}",
        highlight=False,
    )


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)
