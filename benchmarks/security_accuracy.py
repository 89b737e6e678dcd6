"""Security rules on deliberately vulnerable applications nobody here wrote: per-category recall
against what a reviewer would report (each project's documented vulnerability list, located
in its code), and precision over every finding (the ones not on the list carry a verdict).

The repositories are not committed: fetch them first, as bare git directories under
``--mirror`` named ``owner+name/repo`` (what the team's ``fetch`` tool produces), or pass
``--checkouts DIR`` holding working trees named ``owner+name``. Each is read at the commit
recorded in ``benchmarks/security_ground_truth.json``.

    python benchmarks/security_accuracy.py                  # tables
    python benchmarks/security_accuracy.py --details        # plus misses and false findings
    python benchmarks/security_accuracy.py --only NodeGoat --json results.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.project import Project
from backend_agent.analysis.security import analyze_security

HERE = Path(__file__).resolve().parent
TRUTH = HERE / "security_ground_truth.json"
SLACK = 2  # lines either side of a listed range that still count as the same place


@dataclass
class AppResult:
    """One application: the listed vulnerabilities found or missed, and every finding judged."""

    repo: str
    language: str
    found: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    listed: list[Finding] = field(default_factory=list)  # findings on the reviewer's list
    true: list[Finding] = field(default_factory=list)  # not listed, judged right
    false: list[tuple[Finding, str]] = field(default_factory=list)
    unjudged: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""


def category(rule: str) -> str:
    """``nosql-injection.where`` -> ``nosql-injection``; the auth-endpoint rate limit counts
    as ``missing-rate-limit``."""
    return rule.split(".", 1)[0]


def matches(item: dict[str, Any], finding: Finding) -> bool:
    if category(finding.rule) != item["category"]:
        return False
    if item["file"] is not None and finding.file != item["file"]:
        return False
    lines = item["lines"]
    return lines is None or lines[0] - SLACK <= finding.line <= lines[1] + SLACK


def judge(app: dict[str, Any], findings: list[Finding]) -> AppResult:
    result = AppResult(app["repo"], app["language"])
    for item in app["expected"]:
        hit = any(matches(item, f) for f in findings)
        (result.found if hit else result.missed).append(item)
    verdicts = {(v["rule"], v["file"], v["line"]): v for v in app["verdicts"]}
    for finding in findings:
        verdict = verdicts.get((finding.rule, finding.file, finding.line))
        if any(matches(item, finding) for item in app["expected"]):
            result.listed.append(finding)
        elif verdict is None:
            result.unjudged.append(finding)
        elif verdict["verdict"] == "true":
            result.true.append(finding)
        else:
            result.false.append((finding, verdict["why"]))
    return result


def checkout(
    app: dict[str, Any], mirror: Path, checkouts: Path | None, into: Path
) -> tuple[Path, str]:
    """A working tree of the app at the recorded commit, and a note when that was not possible."""
    slug = app["repo"].replace("/", "+")
    if checkouts is not None:
        return checkouts / slug, ""
    repo = mirror / slug / "repo"
    if not repo.exists():
        raise FileNotFoundError(f"{app['repo']} is not fetched: no {repo}")
    commit, note = app["commit"], ""
    known = subprocess.run(
        ["git", "--git-dir", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if known.returncode != 0:
        commit, note = "HEAD", f"commit {app['commit'][:10]} not fetched, read HEAD"
    target = into / slug
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "--git-dir", str(repo), "archive", commit], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target, note


def run(app: dict[str, Any], mirror: Path, checkouts: Path | None) -> AppResult:
    with tempfile.TemporaryDirectory() as tmp:
        root, note = checkout(app, mirror, checkouts, Path(tmp))
        started = time.perf_counter()
        project = Project(root)
        findings = analyze_security(project, build_inventory(project))
        result = judge(app, findings)
        result.seconds, result.note = time.perf_counter() - started, note
    return result


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "  - "


def report(results: list[AppResult], details: bool) -> None:
    print(f"{'application':42} {'lang':10} {'listed':>6} {'found':>5} {'recall':>6} "
          f"{'findings':>8} {'true':>5} {'false':>5} {'unjudged':>8} {'prec.':>5}")  # fmt: skip
    for r in results:
        judged_right = len(r.listed) + len(r.true)
        judged = judged_right + len(r.false)
        total = judged + len(r.unjudged)
        print(
            f"{r.repo:42} {r.language:10} {len(r.found) + len(r.missed):>6} {len(r.found):>5} "
            f"{ratio(len(r.found), len(r.found) + len(r.missed)):>6} {total:>8} {judged_right:>5} "
            f"{len(r.false):>5} {len(r.unjudged):>8} {ratio(judged_right, judged):>5}"
            + (f"  ({r.note})" if r.note else "")
        )
    listed: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for r in results:
        listed.update(item["category"] for item in r.found + r.missed)
        found.update(item["category"] for item in r.found)
    print(f"\n{'category':28} {'listed':>6} {'found':>5} {'recall':>6}")
    for name in sorted(listed):
        print(f"{name:28} {listed[name]:>6} {found[name]:>5} {ratio(found[name], listed[name]):>6}")
    right = sum(len(r.listed) + len(r.true) for r in results)
    wrong = sum(len(r.false) for r in results)
    print(
        f"\noverall recall {ratio(sum(found.values()), sum(listed.values()))}, precision "
        f"{ratio(right, right + wrong)} ({right} right, {wrong} false, "
        f"{sum(len(r.unjudged) for r in results)} unjudged), "
        f"{sum(r.seconds for r in results):.1f} s of analysis"
    )
    if not details:
        return
    for r in results:
        for item in r.missed:
            lines = item["lines"] or ["*"]
            print(f"missed  {r.repo}: {item['category']} {item['file']}:{lines[0]}  {item['what']}")
        for finding, why in r.false:
            print(f"false   {r.repo}: {finding.rule} {finding.file}:{finding.line}  {why}")
        for finding in r.unjudged:
            where = f"{finding.rule} {finding.file}:{finding.line}"
            print(f"unjudged {r.repo}: {where}  {finding.message}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mirror",
        type=Path,
        default=Path("/work/.mirror"),
        help="bare repositories as owner+name/repo (default /work/.mirror)",
    )
    parser.add_argument("--checkouts", type=Path, help="working trees named owner+name instead")
    parser.add_argument("--truth", type=Path, default=TRUTH, help="the ground truth file")
    parser.add_argument("--only", help="only applications whose owner/name contains this")
    parser.add_argument("--details", action="store_true", help="list misses and false findings")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)  # fmt: skip
    apps = json.loads(args.truth.read_text())["apps"]
    if args.only:
        apps = [a for a in apps if args.only.lower() in a["repo"].lower()]
    results = []
    for app in apps:
        try:
            results.append(run(app, args.mirror, args.checkouts))
        except (FileNotFoundError, subprocess.CalledProcessError) as error:
            print(f"skipped {app['repo']}: {error}", file=sys.stderr)
    if not results:
        print("no application could be read: fetch them first (see --help)", file=sys.stderr)
        return 1
    report(results, args.details)
    if args.json:
        rows = [
            {
                "repo": r.repo,
                "found": r.found,
                "missed": r.missed,
                "false": [[f.rule, f.file, f.line, why] for f, why in r.false],
                "unjudged": [[f.rule, f.file, f.line, f.message] for f in r.unjudged],
                "right": len(r.listed) + len(r.true),
            }
            for r in results
        ]
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
