"""Score the endpoint inventory of RealWorld ("Conduit") implementations against ground truth.

Usage:
    python benchmarks/realworld_accuracy.py --export MIRRORS DIR   # check out every repository
    python benchmarks/realworld_accuracy.py DIR [NAME...]           # score (all, or some)

``benchmarks/realworld_truth.json`` lists the implementations (public repositories at a
commit) and, for each, where its code departs from the Conduit spec: endpoints it does not
serve or serves elsewhere, real endpoints beyond the spec, and auth that differs from the
spec's wording. Each departure was verified by reading the code (docs/endpoints-accuracy.md).
The ground truth of an implementation is the spec with those departures applied.

``--export`` writes each listed commit of MIRRORS/<owner>+<name> (a bare git directory, as the
``fetch`` tool leaves it, or a clone) to DIR/<checkout name>; files missing from a partial
snapshot are skipped. Scoring prints, per checkout and in total: exact method + full-path
recall and precision against the ground truth (path parameters compared by position, since
their names are the implementer's choice), and auth (required vs not required, ``unknown``
counting as wrong; and the exact level); the last line scores the same inventories against
the bare spec, without the verified departures.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.project import Project

TRUTH_FILE = Path(__file__).with_name("realworld_truth.json")

# The Conduit API spec's 19 endpoints with the spec's stated authentication.
SPEC: dict[str, str] = {
    "POST /api/users/login": "none",
    "POST /api/users": "none",
    "GET /api/user": "required",
    "PUT /api/user": "required",
    "GET /api/profiles/{}": "optional",
    "POST /api/profiles/{}/follow": "required",
    "DELETE /api/profiles/{}/follow": "required",
    "GET /api/articles": "optional",
    "GET /api/articles/feed": "required",
    "GET /api/articles/{}": "none",
    "POST /api/articles": "required",
    "PUT /api/articles/{}": "required",
    "DELETE /api/articles/{}": "required",
    "POST /api/articles/{}/comments": "required",
    "GET /api/articles/{}/comments": "optional",
    "DELETE /api/articles/{}/comments/{}": "required",
    "POST /api/articles/{}/favorite": "required",
    "DELETE /api/articles/{}/favorite": "required",
    "GET /api/tags": "none",
}


@dataclass(frozen=True)
class Score:
    truth: int  # endpoints the implementation really serves
    found: int  # REST endpoints the inventory reports
    matched: int
    auth_coarse: int  # matched endpoints whose auth is right as required vs not required
    auth_exact: int

    def __add__(self, other: Score) -> Score:
        return Score(*(a + b for a, b in zip(self.row(), other.row(), strict=True)))

    def row(self) -> tuple[int, int, int, int, int]:
        return (self.truth, self.found, self.matched, self.auth_coarse, self.auth_exact)


def ground_truth(entry: dict[str, object]) -> dict[str, str]:
    """The spec with the implementation's verified departures applied: label -> auth."""
    truth = dict(SPEC)
    for label in entry.get("missing", []):  # type: ignore[attr-defined]
        truth.pop(str(label))
    for label, auth in dict(entry.get("extra", {})).items():  # type: ignore[call-overload]
        truth[str(label)] = str(auth)
    for label, auth in dict(entry.get("auth", {})).items():  # type: ignore[call-overload]
        truth[str(label)] = str(auth)
    return truth


def found_endpoints(checkout: Path) -> dict[str, str]:
    """``"METHOD /path/{}"`` -> auth of every REST endpoint the inventory reports."""
    inventory = build_inventory(Project(checkout))
    return {
        f"{e.method} {re.sub(r'{[^}]*}', '{}', e.path)}": e.auth
        for e in inventory.endpoints
        if e.kind == "rest"
    }


def score(found: dict[str, str], entry: dict[str, object]) -> tuple[Score, list[str]]:
    """The score against an implementation's ground truth, and what it got wrong."""
    truth = ground_truth(entry)
    matched = [label for label in truth if label in found]
    coarse = [
        label
        for label in matched
        if found[label] != "unknown"
        and (found[label] == "required") == (truth[label] == "required")
    ]
    exact = [label for label in matched if found[label] == truth[label]]
    wrong = [f"missed {label}" for label in truth if label not in found]
    wrong += [f"extra {label}" for label in found if label not in truth]
    wrong += [f"auth {label}: {found[label]}, truth {truth[label]}" for label in matched
              if label not in coarse]  # fmt: skip
    wrong += [f"level {label}: {found[label]}, truth {truth[label]}" for label in coarse
              if label not in exact]  # fmt: skip
    return Score(len(truth), len(found), len(matched), len(coarse), len(exact)), wrong


def export(mirrors: Path, target: Path, entries: dict[str, dict[str, object]]) -> None:
    """Write each listed commit of each repository into ``target/<checkout name>``."""
    for name, entry in entries.items():
        repo, commit = str(entry["repo"]), str(entry["commit"])
        source = mirrors / repo.replace("/", "+") / "repo"
        if (source / ".git").is_dir():
            source = source / ".git"
        destination = target / name
        destination.mkdir(parents=True, exist_ok=True)
        listing = subprocess.run(
            ["git", "--git-dir", str(source), "ls-tree", "-r", commit],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        for line in listing.splitlines():
            meta, path = line.split("\t", 1)
            _, kind, blob = meta.split()
            if kind != "blob":
                continue
            content = subprocess.run(
                ["git", "--git-dir", str(source), "cat-file", "blob", blob], capture_output=True
            )
            if content.returncode == 0:  # a partial snapshot lacks its largest files
                file = destination / path
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(content.stdout)
        print(f"{name}: {repo} @ {commit[:12]}")


def main(arguments: list[str]) -> None:
    entries: dict[str, dict[str, object]] = json.loads(TRUTH_FILE.read_text())["checkouts"]
    if arguments[:1] == ["--export"]:
        export(Path(arguments[1]), Path(arguments[2]), entries)
        return
    root, names = Path(arguments[0] if arguments else "/tmp/realworld"), arguments[1:]
    total = spec_only = Score(0, 0, 0, 0, 0)
    for name, entry in entries.items():
        if names and name not in names:
            continue
        found = found_endpoints(root / name)
        result, wrong = score(found, entry)
        total += result
        spec_only += score(found, {})[0]
        print(_line(name, result))
        for item in wrong:
            print(f"    {item}")
    print(_line("TOTAL", total))
    print(_line("TOTAL against the spec", spec_only))


def _line(name: str, s: Score) -> str:
    recall = s.matched / s.truth if s.truth else 0.0
    precision = s.matched / s.found if s.found else 0.0
    coarse = s.auth_coarse / s.matched if s.matched else 0.0
    exact = s.auth_exact / s.matched if s.matched else 0.0
    return (
        f"{name:28} recall {s.matched}/{s.truth} = {recall:.1%}  precision {s.matched}/{s.found}"
        f" = {precision:.1%}  auth {coarse:.1%} (exact {exact:.1%})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
