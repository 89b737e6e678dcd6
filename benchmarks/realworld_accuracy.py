"""Score the endpoint inventory of RealWorld ("Conduit") implementations against the spec.

Usage: python benchmarks/realworld_accuracy.py DIR [NAME_PREFIX...]   (each subdirectory of
DIR is one implementation checkout; prefixes select some, e.g. ``fastapi flask gin fiber``).
Prints, per checkout and in total: exact method + full-path matches (path parameters
compared by position, since their names are the implementer's choice), precision, and the
auth column (required vs not; and the spec's exact wording).

Where an implementation's code deliberately differs from the spec's auth (verified by reading
it), the checkout holds ``AUTH_TRUTH.json``: ``{"GET /api/profiles/{}": "required", ...}``;
the auth column is scored against that truth instead of the spec for those endpoints.
Endpoints an implementation really has beyond the spec (verified in its code) may be listed in
``EXTRA_ENDPOINTS.json`` (``["GET /api/ping"]``): "precision" counts them as wrong (against the
spec), "true precision" as right.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.project import Project

# The Conduit API spec's 19 endpoints with the spec's stated authentication.
SPEC: dict[tuple[str, str], str] = {
    ("POST", "/api/users/login"): "none",
    ("POST", "/api/users"): "none",
    ("GET", "/api/user"): "required",
    ("PUT", "/api/user"): "required",
    ("GET", "/api/profiles/{}"): "optional",
    ("POST", "/api/profiles/{}/follow"): "required",
    ("DELETE", "/api/profiles/{}/follow"): "required",
    ("GET", "/api/articles"): "optional",
    ("GET", "/api/articles/feed"): "required",
    ("GET", "/api/articles/{}"): "none",
    ("POST", "/api/articles"): "required",
    ("PUT", "/api/articles/{}"): "required",
    ("DELETE", "/api/articles/{}"): "required",
    ("POST", "/api/articles/{}/comments"): "required",
    ("GET", "/api/articles/{}/comments"): "optional",
    ("DELETE", "/api/articles/{}/comments/{}"): "required",
    ("POST", "/api/articles/{}/favorite"): "required",
    ("DELETE", "/api/articles/{}/favorite"): "required",
    ("GET", "/api/tags"): "none",
}


def score(checkout: Path) -> tuple[int, int, int, int, int, int]:
    """(matched, found, spec size, auth right required-vs-not, auth right exactly, verified
    extra endpoints found)."""
    inventory = build_inventory(Project(checkout))
    found = {
        (e.method, re.sub(r"\{[^}]*\}", "{}", e.path)): e.auth
        for e in inventory.endpoints
        if e.kind == "rest"
    }
    truth = dict(SPEC)
    overrides = checkout / "AUTH_TRUTH.json"
    if overrides.exists():
        for label, auth in json.loads(overrides.read_text()).items():
            method, path = label.split(" ", 1)
            truth[(method, path)] = auth
    matched = [key for key in SPEC if key in found]
    coarse = sum(
        (found[k] == "required") == (truth[k] == "required") and found[k] != "unknown"
        for k in matched
    )
    exact = sum(found[k] == truth[k] for k in matched)
    extras_file = checkout / "EXTRA_ENDPOINTS.json"
    extras = json.loads(extras_file.read_text()) if extras_file.exists() else []
    verified = sum(tuple(label.split(" ", 1)) in found for label in extras)
    return len(matched), len(found), len(SPEC), coarse, exact, verified


def main(root: Path, prefixes: list[str]) -> None:
    totals = [0] * 6
    for checkout in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if prefixes and not checkout.name.startswith(tuple(prefixes)):
            continue
        result = score(checkout)
        totals = [a + b for a, b in zip(totals, result, strict=True)]
        print(_line(checkout.name, *result))
    print(_line("TOTAL", *totals))


def _line(
    name: str, matched: int, found: int, size: int, coarse: int, exact: int, extra: int
) -> str:
    recall = matched / size if size else 0.0
    precision = matched / found if found else 0.0
    true_precision = (matched + extra) / found if found else 0.0
    auth = coarse / matched if matched else 0.0
    strict = exact / matched if matched else 0.0
    return (
        f"{name:26} exact {matched}/{size} = {recall:.1%}  precision {precision:.1%} "
        f"(true {true_precision:.1%})  auth {auth:.1%} (spec wording {strict:.1%})"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/realworld"), sys.argv[2:])
