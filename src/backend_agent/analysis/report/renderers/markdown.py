"""The report as Markdown under the seed's template headings, each item ending in file:line."""

from __future__ import annotations

from backend_agent.analysis.report.model import Report
from backend_agent.analysis.report.renderers.templates import environment
from backend_agent.analysis.report.renderers.view import view


def render_markdown(report: Report, full: bool = False) -> str:
    """The report from templates/report.md, summarised unless ``full`` (see view.py)."""
    return tidy(environment().get_template("report.md").render(v=view(report, full)))


def tidy(text: str) -> str:
    """Blank lines where Markdown needs them: around headings and tables, nowhere else."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    out: list[str] = []
    for index, line in enumerate(lines):
        previous = lines[index - 1] if index else ""
        table, was_table = line.startswith("|"), previous.startswith("|")
        if out and (line.startswith("#") or previous.startswith("#") or table != was_table):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"
