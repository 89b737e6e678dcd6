"""Phrases shared by the Markdown and HTML renderers, so both say the same thing."""

from __future__ import annotations

from typing import Any

from backend_agent.analysis.endpoints.model import ContractChange, Endpoint
from backend_agent.analysis.report.model import AREAS, Plan, TestResult

COMPATIBILITY_LABEL = {
    "breaking": "BREAKING",
    "possibly-breaking": "possibly breaking",
    "non-breaking": "non-breaking",
}


def at(file: str, line: int) -> str:
    return f"{file}:{line}"


def plan_summary(plan: Plan, total_files: int) -> str:
    """One sentence: what the report covers."""
    if plan.base is None:
        where = f" at {plan.head_commit}" if plan.head_commit else ""
        counts = ", ".join(f"{area} {plan.areas[area]}" for area in AREAS if plan.areas.get(area))
        return f"Whole repository{where}: {total_files} files ({counts or 'none recognised'})."
    commits = len(plan.commits)
    noun = "commit" if commits == 1 else "commits"
    files = len(plan.files)
    head = plan.head_commit or "the working tree"
    if plan.uncommitted:  # "from HEAD (abc) to abc, including ..." said the same commit twice
        same = plan.head_commit in (None, plan.base_commit)
        head = "the working tree" if same else f"{plan.head_commit} and the uncommitted changes"
    return (
        f"Change from {plan.base} ({plan.base_commit}) to {head}: {commits} {noun}, "
        f"{files} file{'s' if files != 1 else ''} changed (+{plan.insertions} −{plan.deletions})."
    )


def endpoint_label(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path}"


def endpoint_detail(endpoint: Endpoint) -> str:
    return f"{endpoint.framework} handler {endpoint.handler}, auth {endpoint.auth}"


def change_label(change: ContractChange) -> str:
    return COMPATIBILITY_LABEL[change.compatibility]


def operation_label(op: dict[str, Any]) -> str:
    """``drop-column users.legacy`` or ``rename-table users → members``."""
    target = ".".join(str(op[k]) for k in ("table", "column") if op.get(k))
    if not target and op.get("name"):
        target = str(op["name"])
    text = f"{op['kind']} {target}".strip()
    if op.get("new_name"):
        text += f" → {op['new_name']}"
    if op.get("kind") == "raw-sql" and op.get("sql"):
        text += f" ({op['sql']})"
    return text


def result_label(result: TestResult) -> str:
    status = "timed out" if result.timed_out else f"exit {result.exit_code}"
    counts = [result.passed, result.failed, result.skipped]
    if all(c is None for c in counts):
        return f"{result.runner}: no test counts in its output ({status}, {result.duration:.1f} s)"
    passed, failed, skipped = (0 if c is None else c for c in counts)
    return (
        f"{result.runner}: {passed} passed, {failed} failed, {skipped} skipped "
        f"({status}, {result.duration:.1f} s)"
    )
