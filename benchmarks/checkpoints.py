"""The cost of a checkpoint on a generated 10,000-file / 200 MB repository.

Generates the repository in a temporary directory (source-like text files, some binary blobs,
a .gitignore'd node_modules), then measures, beside ``python -c pass``:

- a cold checkpoint (an empty store: every file is read and stored);
- a checkpoint with nothing changed, and after one changed file (``sed -i`` style: a new
  inode), the cost paid at every prompt;
- a rewind of one file (plan_restore + restore), and of 100 files;
- the floor of the alternative design (content-addressed pre-images with a stat cache): one
  Python walk that lstat()s every file, before any ignore matching, hashing or bookkeeping.

Medians of ``--runs`` runs (cold: of 3). Target: one changed file in at most 50 ms; exit
status 1 when missed.

    python benchmarks/checkpoints.py [--runs 15] [--files 10000] [--megabytes 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from backend_agent.sessions.checkpoints import CheckpointStore

TARGET_MS = 50.0
BLOBS = 50  # binary files holding half of the bytes
IGNORED_FILES = 2_000


def generate(root: Path, files: int, megabytes: int) -> list[Path]:
    """A repository of ``files`` files and about ``megabytes`` MB; returns the text files."""
    rng = random.Random(7)
    words = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz_", k=rng.randint(2, 10)))
        for _ in range(2_000)
    ]
    half = megabytes * 1_000_000 // 2
    text_files = files - BLOBS - 1  # and the .gitignore
    text_size = half // text_files

    def text(size: int) -> bytes:
        lines = []
        length = 0
        while length < size:
            line = " ".join(rng.choices(words, k=10)) + "\n"
            lines.append(line)
            length += len(line)
        return "".join(lines).encode()[:size]

    sources = []
    for number in range(text_files):
        directory = root / "src" / f"package{number // 400:02d}" / f"module{number // 40 % 10}"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"file{number:05d}.py"
        path.write_bytes(text(text_size))
        sources.append(path)
    (root / "assets").mkdir()
    for number in range(BLOBS):
        (root / "assets" / f"blob{number:02d}.bin").write_bytes(rng.randbytes(half // BLOBS))
    (root / ".gitignore").write_text("node_modules/\n*.log\n")
    for number in range(IGNORED_FILES):
        directory = root / "node_modules" / f"dependency{number // 100}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"index{number}.js").write_bytes(text(1_000))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return sources


def walk_and_stat(directory: str, seen: dict[str, tuple[int, int, int, int]]) -> None:
    """What a stat-cache design must do at every checkpoint, at the least."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name in (".git", "node_modules"):
                continue
            if entry.is_dir(follow_symlinks=False):
                walk_and_stat(entry.path, seen)
            else:
                info = entry.stat(follow_symlinks=False)
                seen[entry.path] = (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino)


def milliseconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def median_ms(runs: int, prepare: Callable[[], object], action: Callable[[], object]) -> float:
    samples = []
    for _ in range(runs):
        prepare()
        samples.append(milliseconds(action))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per measure (median taken)")
    parser.add_argument("--files", type=int, default=10_000, help="files in the repository")
    parser.add_argument("--megabytes", type=int, default=200, help="size of the repository")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="checkpoints-bench-") as temporary:
        base = Path(temporary)
        tree = base / "repository"
        tree.mkdir()
        started = time.perf_counter()
        sources = generate(tree, args.files, args.megabytes)
        size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 1e6
        print(
            f"generated {args.files:,} files (+{IGNORED_FILES:,} ignored), {size:,.0f} MB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        rng = random.Random(11)
        python = median_ms(
            args.runs, lambda: None, lambda: subprocess.run([sys.executable, "-c", "pass"])
        )

        stores = iter(range(1_000))
        cold = median_ms(
            3,
            lambda: shutil.rmtree(base / "store", ignore_errors=True),
            lambda: CheckpointStore(tree, base / "store" / str(next(stores))).snapshot(),
        )
        store = CheckpointStore(tree, base / "store" / "warm")
        store.snapshot()
        unchanged = median_ms(args.runs, lambda: None, store.snapshot)

        def change_one() -> None:
            path = rng.choice(sources)
            edited = path.with_suffix(".tmp")
            edited.write_bytes(path.read_bytes().replace(b"a", b"b", 1) + b"# edited\n")
            os.replace(edited, path)  # a new inode, as sed -i makes

        one_changed = median_ms(args.runs, change_one, store.snapshot)
        walk = median_ms(args.runs, lambda: None, lambda: walk_and_stat(str(tree), {}))

        def rewind_ms(count: int) -> float:
            """Change ``count`` files, then time rewinding them (the plan included)."""
            before = store.snapshot()
            for path in rng.sample(sources, count):
                path.write_bytes(path.read_bytes() + b"# rewound away\n")
            after = store.snapshot()
            return milliseconds(lambda: store.restore(store.plan_restore(before, after)))

        rewind_one = statistics.median(rewind_ms(1) for _ in range(args.runs))
        rewind_hundred = statistics.median(rewind_ms(100) for _ in range(5))
        store_size = sum(
            p.stat().st_size for p in (base / "store" / "warm").rglob("*") if p.is_file()
        )

    rows = [
        ("python -c pass", python),
        ("checkpoint, cold (median of 3)", cold),
        ("checkpoint, nothing changed", unchanged),
        ("checkpoint, one file changed", one_changed),
        ("rewind of 1 file", rewind_one),
        ("rewind of 100 files (median of 5)", rewind_hundred),
        ("pre-image design floor: walk + lstat", walk),
    ]
    print(f"{'measure':<36}{'median ms':>11}{'vs python':>11}")
    for name, value in rows:
        print(f"{name:<36}{value:>11.1f}{value / python:>10.1f}x")
    print(f"store after the runs: {store_size / 1e6:,.0f} MB")
    met = one_changed <= TARGET_MS
    print(f"target: one changed file in at most {TARGET_MS:.0f} ms: {'met' if met else 'missed'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
