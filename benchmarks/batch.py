"""``backend-agent batch``: 40 report tasks over generated repositories, local and Ray.

Each task reports on a generated repository (Flask and Express modules with routes and
queries, SQL migrations). Configurations:

- ``in-process``: the tasks one after another in this process (``run_job``), no executor:
  the baseline for the executors' overhead;
- ``local`` with 1 and 2 workers (a process per task, forked from a warmed-up fork server);
- ``ray`` with 1 and 2 workers on a local two-CPU Ray cluster (started once, its start-up
  time printed apart).

One round is not counted (it starts the fork server and Ray's workers); then each
configuration runs ROUNDS times, interleaved, each time on newly generated repositories, so
no scan cache (on disk, or in the memory of a reused process) has seen their files. Prints
the medians, the local speed-up (1 worker / 2 workers; target >= 1.7 on 2 cores) beside how
many cores the machine gave us in each round (two CPU-bound processes against one: other jobs
on a shared machine take the rest), and each executor's overhead per task against the
in-process baseline (target for Ray <= 150 ms).
Usage: python benchmarks/batch.py [--repos 40] [--modules 25] [--rounds 3] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from report import JS, PY  # benchmarks/report.py's generated modules

SQL = """CREATE TABLE items_{i} (id bigint, name text);
ALTER TABLE items_{i} DROP COLUMN name;
"""


def generate(root: Path, run: int, repos: int, modules: int) -> list[Path]:
    """Repositories whose files are all different (from each other and from any other
    run's): no cache, on disk or in a worker's memory, has seen them. The modules are
    benchmarks/report.py's, numbered across runs and repositories."""
    paths = []
    for r in range(repos):
        repo = root / f"service-{r:02d}"
        for m in range(modules):
            i = (run * repos + r) * modules + m
            _write(repo / "app" / f"m{m}.py", PY.format(i=i))
            _write(repo / "web" / f"m{m}.js", JS.format(i=i))
            _write(repo / "migrations" / f"{m:04d}_items.sql", SQL.format(i=i))
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
        subprocess.run([*git, "add", "."], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-qm", "generated"], cwd=repo, check=True)
        paths.append(repo)
    return paths


BURN = "s = 0\nfor i in range(12_000_000):\n    s += i\n"  # about a second of one core


def parallelism_available() -> float:
    """How many cores this machine gives us right now, between 1 and 2: the time of one
    CPU-bound process against two at once (2.0 on an idle 2-core machine)."""

    def burn(count: int) -> float:
        started = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(count)]
        for process in processes:
            process.wait()
        return time.perf_counter() - started

    return 2 * burn(1) / burn(2)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=40)
    parser.add_argument("--modules", type=int, default=25, help="per language, per repository")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    os.environ["BACKEND_AGENT_HOME"] = str(work / "home")
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    from backend_agent.batch import (
        BatchOptions,
        Executor,
        LocalExecutor,
        RayExecutor,
        Task,
        report_tasks,
        run_batch,
    )
    from backend_agent.batch.worker import Job, run_job

    runs = iter(range(10**6))

    def fresh_tasks() -> tuple[list[Task], Path]:
        """Report tasks on newly generated repositories, and an output directory."""
        number = next(runs)
        repos = generate(work / f"r{number}", number, args.repos, args.modules)
        return report_tasks([str(r) for r in repos], "md"), work / f"out-{number}"

    def in_process(tasks: list[Task], out: Path) -> None:
        for task in tasks:
            result = run_job(Job(task, out, BatchOptions(out).defaults))
            assert result.status == "ok", result.result

    def executor_run(make: Callable[[], Executor]) -> Callable[[list[Task], Path], None]:
        def run(tasks: list[Task], out: Path) -> None:
            executor = make()
            try:
                outcome = run_batch(tasks, executor, BatchOptions(out))
            finally:
                executor.close()
            assert outcome.all_ok, [r.result for r in outcome.results if r.status != "ok"]

        return run

    configurations: dict[str, Callable[[list[Task], Path], None]] = {
        "in-process, serial": in_process,
        "local, 1 worker": executor_run(lambda: LocalExecutor(1, preload_models=False)),
        "local, 2 workers": executor_run(lambda: LocalExecutor(2, preload_models=False)),
    }
    try:
        print(
            f"{args.repos} report tasks, {args.modules} Python + {args.modules} JavaScript "
            f"modules and {args.modules} migrations each; {args.rounds} rounds; "
            f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}"
        )
        ray_start = None
        if not args.no_ray:
            import logging

            import ray

            started = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)  # fmt: skip
            ray_start = time.perf_counter() - started
            configurations["ray, 1 worker"] = executor_run(lambda: RayExecutor(workers=1))
            configurations["ray, 2 workers"] = executor_run(lambda: RayExecutor(workers=2))

        def timed(name: str) -> float:
            tasks, out = fresh_tasks()
            started = time.perf_counter()
            configurations[name](tasks, out)
            elapsed = time.perf_counter() - started
            shutil.rmtree(out.parent / out.name, ignore_errors=True)
            return elapsed

        warm_up = {name: timed(name) for name in configurations}  # not counted
        times: dict[str, list[float]] = {name: [] for name in configurations}
        available: list[float] = []
        for _ in range(args.rounds):
            available.append(parallelism_available())
            for name in configurations:  # interleaved: load drifts hit all alike
                times[name].append(timed(name))

        count = args.repos
        median = {name: statistics.median(values) for name, values in times.items()}
        base = median["in-process, serial"]
        print(f"\n{'configuration':<22} {'median':>9} {'per task':>10}  rounds")
        for name, value in median.items():
            rounds = " ".join(f"{t:.2f}" for t in times[name])
            print(f"{name:<22} {value:8.2f}s {value / count * 1000:8.0f}ms  {rounds}")
        speedup = median["local, 1 worker"] / median["local, 2 workers"]
        local_overhead = (median["local, 1 worker"] - base) / count * 1000
        fork_server = warm_up["local, 1 worker"] - median["local, 1 worker"]
        best = {name: min(values) for name, values in times.items()}
        best_speedup = best["local, 1 worker"] / best["local, 2 workers"]
        print(
            f"\ncores available to us (two CPU-bound processes vs one; 2.0 when the machine is "
            f"idle): {' '.join(f'{a:.2f}' for a in available)}"
        )
        print(f"local speed-up, 2 workers over 1: {speedup:.2f}x (target >= 1.7)")
        print(f"local speed-up of the best rounds: {best_speedup:.2f}x")
        print(f"local overhead per task vs in-process: {local_overhead:.0f} ms")
        print(f"local fork server start-up with warm-up (once): {fork_server:.1f} s")
        if ray_start is not None:
            ray_overhead = (median["ray, 1 worker"] - base) / count * 1000
            ray_speedup = median["ray, 1 worker"] / median["ray, 2 workers"]
            print(f"ray overhead per task vs in-process: {ray_overhead:.0f} ms (target <= 150)")
            ray_best = best["ray, 1 worker"] / best["ray, 2 workers"]
            print(
                f"ray speed-up, 2 workers over 1: {ray_speedup:.2f}x (best rounds {ray_best:.2f}x)"
            )
            print(f"ray local cluster start-up (once): {ray_start:.1f} s")
            import ray

            ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
