"""What a session sends the model: token cost on the shared 51-step scenario, and a long
generated session in a small window.

1. ``../shared/bench/scenarios/basic.json`` run headless through ``run_oracle.py`` against its
   fake Anthropic server, the request log replayed by ``cache_sim.py``: cache-read share from
   the second request, billed-equivalent input (uncached + 0.1 x reads + 1.25 x writes), bytes
   sent, and the system prompt + tool definitions per request. Targets: billed ≤ 25,000
   tokens, read share ≥ 95 %, system + tools ≤ 8,000 bytes (Claude Code 2.1.332: 51,735;
   98.7 %; 18,538).
2. A generated session of ``--steps`` tool calls (reads of generated modules, searches, shell
   commands with large outputs) with a ``--window``-token context, against the fake server of
   ``tests/fakes`` that refuses prompts over the window: peak request tokens, compactions,
   requests refused, bytes sent.

    python benchmarks/context.py [--steps 120] [--window 20000] [--skip-basic] [--bench DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = ROOT.parent / "shared" / "bench"  # ../shared/bench beside the checkout
sys.path.insert(0, str(ROOT / "tests"))

from fakes.anthropic_server import (  # noqa: E402
    AnthropicFake,
    Reply,
    prompt_size,
    tool_use,
)
from fakes.server import RecordedRequest  # noqa: E402

from backend_agent.runtime.compaction import REQUEST_TAG  # noqa: E402

MODEL = "claude-sonnet-4-5-20250929"
TARGETS = {"billed": 25_000, "read_share": 0.95, "system_tools": 8_000}


def cli_command() -> list[str]:
    """This checkout's backend-agent, whatever is installed."""
    return ["env", f"PYTHONPATH={ROOT / 'src'}", sys.executable, "-m", "backend_agent"]


# ---------------------------------------------------------------- 1. the shared scenario


def basic_scenario(bench: Path) -> dict[str, Any]:
    sys.path.insert(0, str(bench))
    from cache_sim import simulate_log  # type: ignore[import-not-found]
    from run_oracle import request_stats, run_scenario  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory(prefix="context-bench-") as scratch:
        run = run_scenario(
            " ".join(cli_command()),
            str(bench / "scenarios" / "basic.json"),
            rundir=os.path.join(scratch, "run"),
            model=MODEL,
        )
        if run["rc"] != 0:
            raise SystemExit(f"the scenario failed (exit {run['rc']}): {run['stderr'][-2000:]}")
        summary = simulate_log(run["log_path"])["summary"]
        stats = request_stats(run["log_path"])
    return {
        "requests": summary["main_requests"],
        "read_share": summary["read_share_from_turn_2"],
        "billed": summary["billed_equivalent_input"],
        "bytes_sent": summary["bytes_sent"],
        "system_tools": stats[0]["system_tools_bytes"],
        "tools": stats[0]["n_tools"],
        "wall_s": run["wall_s"],
    }


# ---------------------------------------------------------------- 2. a long session


def make_project(root: Path, modules: int) -> None:
    for n in range(modules):
        body = "".join(
            f"def handler_{n}_{k}(request):\n    return {{'module': {n}, 'case': {k}}}\n"
            for k in range(30)
        )
        (root / f"module_{n:03d}.py").write_text(body)


def step(n: int, modules: int) -> Reply:
    """Reads most of the time, a search or a long shell command now and then."""
    if n % 10 == 9:
        return Reply.of(tool_use("Bash", {"command": f"seq 1 {3_000 + n * 10}"}))
    if n % 10 == 4:
        return Reply.of(
            tool_use("Grep", {"pattern": f"handler_{n % modules}_", "output_mode": "content"})
        )
    return Reply.of(tool_use("Read", {"file_path": f"module_{n % modules:03d}.py"}))


class LongSession:
    """The fake model's side: the next step per request, a summary per compaction request."""

    def __init__(self, steps: int, modules: int) -> None:
        self.replies = [step(n, modules) for n in range(steps)] + [Reply.of("All steps done.")]
        self.taken = 0
        self.summaries = 0

    def __call__(self, request: RecordedRequest) -> Reply:
        last = request.body["messages"][-1]["content"]
        if any(REQUEST_TAG in block.get("text", "") for block in last):
            self.summaries += 1
            return Reply.of("Worked through the modules in order; nothing changed. Next: go on.")
        reply = self.replies[min(self.taken, len(self.replies) - 1)]
        self.taken += 1
        return reply


def long_session(steps: int, window: int) -> dict[str, Any]:
    modules = 40
    with tempfile.TemporaryDirectory(prefix="context-long-") as scratch:
        project, home = Path(scratch) / "project", Path(scratch) / "home"
        project.mkdir()
        home.mkdir()
        make_project(project, modules)
        script = LongSession(steps, modules)
        with AnthropicFake(script, context_window=window) as fake:
            env = {
                "PATH": os.environ["PATH"],
                "HOME": str(home),
                "ANTHROPIC_BASE_URL": fake.url,
                "ANTHROPIC_API_KEY": "sk-bench",
                "BACKEND_AGENT_CONTEXT_WINDOW": str(window),
                "BACKEND_AGENT_MAX_RETRIES": "0",
            }
            started = time.perf_counter()
            done = subprocess.run(
                [
                    *cli_command(),
                    "-p",
                    f"Work through the {steps} steps.",
                    "--output-format",
                    "stream-json",
                    "--permission-mode",
                    "bypassPermissions",
                    "--model",
                    MODEL,
                ],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            wall = time.perf_counter() - started
        records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        result = records[-1] if records else {}
        return {
            "ok": result.get("subtype") == "success",
            "result": result.get("result", done.stderr[-500:]),
            "tool_calls": script.taken - 1,
            "compactions": sum(1 for r in records if r.get("subtype") == "compact_boundary"),
            "summaries": script.summaries,
            "refused": len(fake.too_long),
            "peak_tokens": max(prompt_size(r.body) for r in fake.requests),
            "bytes_sent": sum(len(json.dumps(r.body)) for r in fake.requests),
            "wall_s": wall,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--window", type=int, default=20_000)
    parser.add_argument("--skip-basic", action="store_true", help="only the long session")
    parser.add_argument(
        "--bench", type=Path, default=DEFAULT_BENCH, help="the shared bench kit's directory"
    )
    args = parser.parse_args()
    missed = []
    if not args.skip_basic:
        if not (args.bench / "run_oracle.py").is_file():
            raise SystemExit(f"{args.bench}: no bench kit there; pass --bench DIR")
        basic = basic_scenario(args.bench)
        print(f"basic.json, {basic['requests']} requests, {basic['tools']} tools, {MODEL}")
        print(f"  cache-read share from turn 2  {basic['read_share']:.1%}   (target ≥ 95%)")
        print(f"  billed-equivalent input       {basic['billed']:,.0f}   (target ≤ 25,000)")
        print(f"  bytes sent                    {basic['bytes_sent']:,}")
        print(f"  system + tools per request    {basic['system_tools']:,} bytes   (target ≤ 8,000)")
        print(f"  wall                          {basic['wall_s']:.1f} s")
        missed += [
            name for name, goal in TARGETS.items() if name == "read_share" and basic[name] < goal
        ]
        missed += [
            name for name, goal in TARGETS.items() if name != "read_share" and basic[name] > goal
        ]
    long = long_session(args.steps, args.window)
    print(f"generated session: {args.steps} tool calls, {args.window:,}-token window")
    print(f"  completed                     {'yes' if long['ok'] else 'NO: ' + long['result']}")
    print(f"  tool calls run                {long['tool_calls']}")
    print(f"  peak request                  {long['peak_tokens']:,} tokens")
    print(f"  compactions                   {long['compactions']} ({long['summaries']} summaries)")
    print(f"  requests refused as too long  {long['refused']}")
    print(f"  bytes sent                    {long['bytes_sent']:,}")
    print(f"  wall                          {long['wall_s']:.1f} s")
    if not long["ok"] or long["peak_tokens"] > args.window:
        missed.append("long session")
    if missed:
        print(f"missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
