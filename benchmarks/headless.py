"""A headless run of the 51-step ``../shared/bench`` scenario, and a 2 MB Write streamed in one
tool call: wall time and peak RSS, median of ``--runs``, beside ``python -c pass``.

The bench kit (fake Anthropic server, scenario driver) lives outside the repository and is
used as it is; its ``run_scenario`` builds the scenario's files, starts the fake server and
runs the CLI once with ``-p … --output-format json --permission-mode bypassPermissions``.
Bytecode is compiled first, as on an installed system.

Targets: wall ≤ 2.7 s and peak RSS ≤ 60 MiB for the scenario, the 2 MB Write ≤ 2 s (its
run's wall time minus the bare ``python -c pass`` start). Exit status 1 when one is missed.

    python benchmarks/headless.py [--runs 5] [--bench ../shared/bench]
"""

from __future__ import annotations

import argparse
import compileall
import importlib
import os
import shlex
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import backend_agent

REPO = Path(__file__).resolve().parents[1]
MODEL = "claude-sonnet-4-5-20250929"
WALL_TARGET_S = 2.7
RSS_TARGET_MIB = 60.0
WRITE_TARGET_S = 2.0
WRITE_BYTES = 2 * 1024 * 1024
GNU_TIME = "/usr/bin/time"


def default_bench() -> Path:
    """``../shared/bench`` beside the repository (or beside the main checkout of a worktree)."""
    for root in (REPO.parent, REPO.parent.parent):
        if (root / "shared" / "bench" / "run_oracle.py").is_file():
            return root / "shared" / "bench"
    return REPO.parent / "shared" / "bench"


def load_kit(bench: Path) -> ModuleType:
    if not (bench / "run_oracle.py").is_file():
        raise SystemExit(f"{bench}: no run_oracle.py here; pass --bench DIR")
    sys.path.insert(0, str(bench))
    return importlib.import_module("run_oracle")


def measured(argv: list[str], rss_file: Path) -> list[str]:
    """``argv`` under GNU time, which writes the peak RSS of the command alone to ``rss_file``.

    The kit's own figure (wait4 of its child) also counts the memory of the process that
    started it: a child started by vfork inherits its parent's peak RSS at exec.
    """
    return [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv]


def bare_python(kit: ModuleType, rss_file: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``python -c pass``, started like the agent."""
    argv = measured([sys.executable, "-c", "pass"], rss_file)
    run = kit.run_measured(argv, cwd=".", env=os.environ, timeout=60)
    return run["wall_s"], peak_rss(rss_file)


def peak_rss(rss_file: Path) -> float:
    return int(rss_file.read_text().split()[-1]) / 1024


def write_scenario() -> dict[str, Any]:
    """One Write of 2 MB of source-like lines (quotes and backslashes included), then a reply."""
    line = 'print("row {i:07d}", path="C:\\\\tmp")  # tab\there\n'
    count = WRITE_BYTES // len(line.format(i=0)) + 1
    content = "".join(line.format(i=i) for i in range(count))[:WRITE_BYTES]
    return {
        "fixtures": {},
        "steps": [
            {
                "id": "write-2mb",
                "name": "Write",
                "input": {"file_path": "$W/big.py", "content": content},
            }
        ],
        "final_text": "written",
    }


def run_once(kit: ModuleType, scenario: Any, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_headless_") as tmp:
        rss_file = Path(tmp, "rss")
        run = kit.run_scenario(
            shlex.join(measured([sys.executable, "-m", "backend_agent"], rss_file)),
            scenario,
            workdir=os.path.join(tmp, "work"),
            rundir=os.path.join(tmp, "run"),
            model=MODEL,
            extra_env=env,
            timeout=120,
        )
        result = run["result"] or {}
        written = Path(tmp, "work", "big.py")
        return {
            "wall": run["wall_s"],
            "rss": peak_rss(rss_file),
            "rc": run["rc"],
            "subtype": result.get("subtype"),
            "turns": result.get("num_turns"),
            "written": written.stat().st_size if written.exists() else None,
            "stderr": run["stderr"],
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (median taken)")
    parser.add_argument("--bench", type=Path, default=default_bench(), help="the bench kit")
    args = parser.parse_args()

    if not Path(GNU_TIME).exists():
        raise SystemExit(f"{GNU_TIME} (GNU time) is needed to measure peak RSS")
    kit = load_kit(args.bench.resolve())
    compileall.compile_dir(Path(backend_agent.__file__).parent, quiet=1)
    env = {"PYTHONPATH": str(Path(backend_agent.__file__).parents[1])}
    scenario = args.bench / "scenarios" / "basic.json"
    big_write = write_scenario()

    samples: dict[str, list[tuple[float, float]]] = {"python": [], "scenario": [], "write": []}
    failures: list[str] = []
    for _ in range(args.runs):
        with tempfile.NamedTemporaryFile() as rss_file:
            samples["python"].append(bare_python(kit, Path(rss_file.name)))
        for name, what in (("scenario", scenario), ("write", big_write)):
            run = run_once(kit, what, env)
            samples[name].append((run["wall"], run["rss"]))
            if run["rc"] != 0 or run["subtype"] != "success":
                failures.append(
                    f"{name}: exit {run['rc']}, {run['subtype']}: {run['stderr'][-300:]}"
                )
            if name == "write" and run["written"] != WRITE_BYTES:
                failures.append(f"write: big.py has {run['written']} bytes, not {WRITE_BYTES}")

    medians = {
        name: (statistics.median(w for w, _ in runs), statistics.median(r for _, r in runs))
        for name, runs in samples.items()
    }
    base_wall = medians["python"][0]
    print(f"{'run':<34}{'wall s':>8}{'vs python':>11}{'peak RSS MiB':>14}")
    labels = {
        "python": "python -c pass",
        "scenario": "51-step scenario (-p, json)",
        "write": "one 2 MB Write tool call",
    }
    for name, (wall, rss) in medians.items():
        print(f"{labels[name]:<34}{wall:>8.2f}{wall - base_wall:>+11.2f}{rss:>14.1f}")
    wall, rss = medians["scenario"]
    write_seconds = medians["write"][0] - base_wall
    checks = [
        (f"scenario wall ≤ {WALL_TARGET_S} s", wall <= WALL_TARGET_S),
        (f"scenario peak RSS ≤ {RSS_TARGET_MIB:.0f} MiB", rss <= RSS_TARGET_MIB),
        (
            f"2 MB Write ≤ {WRITE_TARGET_S} s (run minus python start)",
            write_seconds <= WRITE_TARGET_S,
        ),
        ("every run succeeded", not failures),
    ]
    for label, ok in checks:
        print(f"{'met' if ok else 'MISSED':>7}  {label}")
    for failure in dict.fromkeys(failures):
        print(f"  {failure}")
    print(f"median of {args.runs} runs; bench kit {args.bench}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
