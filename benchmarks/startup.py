"""Cold start-up of ``backend-agent --version``, ``--help`` and ``import backend_agent`` beside
the bare interpreter.

Bytecode is compiled first (into the packages' ``__pycache__``; PYTHONDONTWRITEBYTECODE only
stops the import system from writing it, not from reading it), then each command runs
``--runs`` times, interleaved, and the medians are printed with their distance from
``python -c pass``. Target: within 100 ms of it, and none of the heavy libraries (pydantic,
rich, prompt_toolkit, tree-sitter, jinja2, mcp, yaml, the provider SDKs) imported on these
paths. Exit status 1 when a command misses either.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

import backend_agent

TARGET_MS = 100.0
HEAVY = (
    "pydantic", "rich", "prompt_toolkit", "tree_sitter", "jinja2", "mcp", "yaml", "anthropic",
    "openai", "sqlglot", "sqlalchemy",
)  # fmt: skip


def console_script() -> list[str]:
    """The installed ``backend-agent`` script next to this interpreter (no pyenv shim)."""
    script = Path(sys.executable).parent / "backend-agent"
    return [str(script)] if script.exists() else [sys.executable, "-m", "backend_agent"]


def measure(argv: list[str]) -> float:
    """Wall-clock milliseconds of one run of ``argv``, output discarded."""
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def heavy_imports(argv: list[str]) -> list[str]:
    """The heavy top-level packages ``argv`` (a Python command line) imports."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, check=True
    )
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    return sorted(loaded & set(HEAVY))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (median taken)")
    args = parser.parse_args()

    compileall.compile_dir(Path(backend_agent.__file__).parent, quiet=1)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "backend-agent --version": [*console_script(), "--version"],
        "backend-agent --help": [*console_script(), "--help"],
        "import backend_agent": [sys.executable, "-c", "import backend_agent"],
    }
    for argv in commands.values():  # warm the OS file cache once
        measure(argv)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            samples[name].append(measure(argv))

    baseline = statistics.median(samples["python -c pass"])
    print(f"{'command':<26}{'median ms':>10}{'vs python':>12}{'ratio':>8}")
    missed = []
    for name, times in samples.items():
        median = statistics.median(times)
        extra = median - baseline
        print(f"{name:<26}{median:>10.1f}{extra:>+12.1f}{median / baseline:>8.2f}")
        if extra > TARGET_MS:
            missed.append(name)
    python_paths = {
        "backend-agent --version": [sys.executable, "-m", "backend_agent", "--version"],
        "backend-agent --help": [sys.executable, "-m", "backend_agent", "--help"],
        "import backend_agent": commands["import backend_agent"],
    }
    for name, argv in python_paths.items():
        heavy = heavy_imports(argv)
        print(f"{name}: heavy imports: {', '.join(heavy) or 'none'}")
        if heavy:
            missed.append(f"{name} (imports {', '.join(heavy)})")
    verdict = f"missed by: {', '.join(missed)}" if missed else "met"
    print(f"target: within {TARGET_MS:.0f} ms of python -c pass ({args.runs} runs each): {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
