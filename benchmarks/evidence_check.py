"""The evidence check of a final report on a generated 10,000-file repository: time per step.

Generates the repository of benchmarks/report.py (routes, queries, migrations and tests in
Python, JavaScript, Go and Ruby), commits it, records the session's first checkpoint, then
makes a typical change (one new endpoint, one migration dropping a column, one test). Each
measurement runs in its own process:

- baselines: ``python -c pass`` (interpreter start), ``git status`` (the least any look at a
  change costs) and the engine's report of the whole repository (what the check would cost if
  it did not scope itself to the change);
- the check, cold: no scan cache at all (a repository the engine never saw);
- the check, warm: the scan cache as an earlier check (or an ``endpoints`` call) leaves it:
  only the changed files are scanned again.

The check is what the session runs when the model ends its turn: the change since the first
checkpoint (checkpoint diff and the changed files' earlier contents), the engine's report of
it, and the comparison with a written report. Prints seconds and the ratio to ``git status``.
Usage: python benchmarks/evidence_check.py [MODULES_PER_LANGUAGE]   (default 2000: ~10,200 files)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import change, generate, git  # the same generated repository

CHECK = """
import sys, time
from pathlib import Path
from backend_agent.evidence.change import since_snapshot
from backend_agent.evidence.check import check_report
from backend_agent.evidence.collect import collect_evidence
from backend_agent.evidence.template import SEED_SECTIONS, SEED_TITLE, ReportTemplate, read_report
from backend_agent.sessions.checkpoints import CheckpointStore

root, store_dir, start = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
began = time.perf_counter()
store = CheckpointStore(root, store_dir)
change = since_snapshot(
    root, store.changed_files(start), lambda paths: store.read_files(start, paths), "start"
)
report = collect_evidence(change)
template = ReportTemplate(SEED_TITLE, SEED_SECTIONS)
written = read_report(
    "## Backend Agent Report\\n### Plan\\n- x\\n### Endpoints/Contracts\\n- DELETE "
    "/m0/items/<int:item_id>\\n### Database Impact\\n- None\\n### Tests\\n- test_delete.py\\n"
    "### Risks & Rollbacks\\n- none",
    template,
)
found = check_report(written, template, report)
print(f"{time.perf_counter() - began:.3f} {len(change.paths)} {len(found)}")
"""
WHOLE = """
import sys
from backend_agent.analysis.project import Project
from backend_agent.analysis.report import build_report
build_report(Project(sys.argv[1]))
"""


def seconds(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed:\n{done.stderr}")
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    src = Path(__file__).resolve().parent.parent / "src"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        generate(root, count)
        git(root, "init", "-q")
        git(root, "add", ".")
        git(root, "commit", "-qm", "base")
        files = sum(1 for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
        env = {
            **os.environ,
            "PYTHONPATH": str(src),
            "BACKEND_AGENT_CACHE_DIR": str(Path(tmp) / "cache"),
        }
        from backend_agent.sessions.checkpoints import CheckpointStore

        store_dir = Path(tmp) / "checkpoints"
        started = time.perf_counter()
        start = CheckpointStore(root, store_dir).snapshot()
        first_checkpoint = time.perf_counter() - started
        change(root)
        print(f"repository: {files} files ({count} modules per language), change: 3 files")
        print(f"first checkpoint (the session's, not the check's): {first_checkpoint:.2f} s")
        python = sys.executable
        floor, _ = seconds([python, "-c", "pass"], env)
        status, _ = seconds(["git", "-C", str(root), "status", "--porcelain"], env)
        check = [python, "-c", CHECK, str(root), str(store_dir), start]
        rows = [("python -c pass", floor, ""), ("git status (baseline)", status, "")]
        whole, _ = seconds(
            [python, "-c", WHOLE, str(root)],
            {**env, "BACKEND_AGENT_CACHE_DIR": str(Path(tmp) / "whole")},
        )
        rows.append(("engine report, whole repository, cold", whole, ""))
        cold, out = seconds(check, env)
        rows.append(("evidence check, cold cache", cold, _detail(out)))
        warm, out = seconds(check, env)
        rows.append(("evidence check, warm cache", warm, _detail(out)))
        for label, value, detail in rows:
            print(f"{label:40} {value:7.2f} s  {value / status:7.1f}x git status  {detail}")


def _detail(out: str) -> str:
    took, changed, found = out.split()
    return f"(in-process {float(took):.2f} s; {changed} changed files, {found} discrepancies)"


if __name__ == "__main__":
    main()
