"""Grep and Glob through ToolSession, as ratios to the raw ``rg`` binary doing the same search.

Builds (once) a deterministic tree of 50,000 files / ~525 MB under benchmarks/.data, then times
each search as the median of several runs, raw rg and the tool interleaved so that machine
noise hits both alike. Targets: Grep <= 1.15x, Glob <= 1.3x of raw rg.

    python benchmarks/search.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backend_agent.tools import ToolSession
from backend_agent.tools.ripgrep import rg_binary

ROOT = Path(__file__).resolve().parent / ".data" / "search-tree"
SEED = 20261126
TOP_DIRS, SUB_DIRS, FILES_PER_DIR = 50, 20, 50  # 50,000 files
MEAN_FILE_BYTES = 10_500  # ~525 MB in total
EXTENSIONS = (".py", ".ts", ".go", ".rb", ".md", ".json")
WORDS = [
    "request",
    "response",
    "handler",
    "service",
    "client",
    "server",
    "user",
    "order",
    "payment",
    "invoice",
    "session",
    "token",
    "cache",
    "queue",
    "worker",
    "retry",
    "timeout",
    "config",
    "database",
    "query",
    "index",
    "schema",
    "migration",
    "route",
    "endpoint",
    "status",
    "error",
    "value",
    "result",
    "context",
    "logger",
    "metric",
    "event",
    "stream",
    "buffer",
]
MARKER_SHARE = 0.02  # files carrying the files_with_matches marker


def build_tree(root: Path) -> None:
    """Write the tree unless a previous run finished writing it (a stamp file says so)."""
    stamp = root / ".complete"
    if stamp.exists():
        return
    rng = random.Random(SEED)
    lines = [
        f"{rng.choice(WORDS)}_{rng.choice(WORDS)}({rng.randrange(10_000)}) = "
        + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 14)))
        for _ in range(20_000)
    ]
    block = ("\n".join(lines) + "\n").encode()
    root.mkdir(parents=True, exist_ok=True)
    total = 0
    for top in range(TOP_DIRS):
        print(f"\rbuilding tree: {top * 100 // TOP_DIRS}%", end="", file=sys.stderr, flush=True)
        for sub in range(SUB_DIRS):
            directory = root / f"pkg{top:02d}" / f"mod{sub:02d}"
            directory.mkdir(parents=True, exist_ok=True)
            for index in range(FILES_PER_DIR):
                size = rng.randrange(1_000, 2 * MEAN_FILE_BYTES - 1_000)
                start = rng.randrange(len(block) - size)
                body = block[start : start + size]
                if rng.random() < MARKER_SHARE:
                    body += f"\nBENCH_MARKER_{rng.randrange(1_000)} = True\n".encode()
                extension = EXTENSIONS[index % len(EXTENSIONS)]
                (directory / f"file{index:03d}{extension}").write_bytes(body)
                total += len(body)
    stamp.write_text(f"{total}\n")
    print(
        f"\rbuilt {TOP_DIRS * SUB_DIRS * FILES_PER_DIR} files, {total / 1e6:.0f} MB",
        file=sys.stderr,
    )


def elapsed(action: Callable[[], object]) -> float:
    """Wall-clock seconds one call of ``action`` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@dataclass(frozen=True)
class Case:
    """One search: the raw rg command, the same search as a tool call, and the target ratio."""

    name: str
    raw: list[str]
    tool: str
    args: dict[str, object]
    target: float
    same_order: list[str] | None = None  # raw rg that also sorts by mtime, for reference


def run_rg(args: list[str]) -> None:
    subprocess.run(
        [rg_binary(), *args], cwd=ROOT, capture_output=True, check=False, stdin=subprocess.DEVNULL
    )


def compare(case: Case, session: ToolSession, runs: int) -> bool:
    """Time raw rg and the tool alternately (so noise hits both); print medians and ratios."""

    def run_tool() -> None:
        result = session.call(case.tool, case.args)
        assert not result.is_error, result.content

    contenders = {"raw": lambda: run_rg(case.raw), "tool": run_tool}
    if case.same_order:
        same_order = case.same_order
        contenders["sorted"] = lambda: run_rg(same_order)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for action in contenders.values():
        action()  # warm the page cache and every code path
    for _ in range(runs):
        for name, action in contenders.items():
            times[name].append(elapsed(action))
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["tool"] / medians["raw"]
    verdict = "ok" if ratio <= case.target else "MISSED"
    line = (
        f"{case.name:26} raw rg {medians['raw'] * 1000:7.1f} ms  tool {medians['tool'] * 1000:7.1f}"
        f" ms  ratio {ratio:4.2f}x (target <= {case.target}x) {verdict}"
    )
    line += f"; best-of-runs ratio {min(times['tool']) / min(times['raw']):4.2f}x"
    if "sorted" in medians:
        line += f"; vs rg --sortr=modified {medians['tool'] / medians['sorted']:4.2f}x"
    print(line, flush=True)
    return ratio <= case.target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per contender (median)")
    options = parser.parse_args()
    build_tree(ROOT)
    marker = r"BENCH_MARKER_\d+"
    content = r"invoice_payment\(\d+\) = token"
    cases = [
        Case(
            "Grep files_with_matches",
            ["--files-with-matches", "-e", marker],
            "Grep",
            {"pattern": marker},
            1.15,
        ),
        Case(
            "Grep content",
            ["--no-heading", "--with-filename", "--line-number", "-e", content],
            "Grep",
            {"pattern": content, "output_mode": "content"},
            1.15,
        ),
    ]
    for glob in ("**/*.py", "pkg0*/**/*.go"):
        raw = ["--files", "--glob", glob]
        cases.append(
            Case(f"Glob {glob}", raw, "Glob", {"pattern": glob}, 1.3, [*raw, "--sortr=modified"])
        )
    stamp = (ROOT / ".complete").read_text().strip()
    load = os.getloadavg()[0]
    print(
        f"tree: {ROOT} ({stamp} bytes), median of {options.runs} runs, load {load:.1f}",
        flush=True,
    )
    with ToolSession(ROOT) as session:
        results = [compare(case, session, options.runs) for case in cases]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
