"""The Backend Agent Report in four formats: Markdown, JSON, SARIF and self-contained HTML."""

from __future__ import annotations

import json
from typing import Literal

from backend_agent.analysis.report.model import Report

Format = Literal["md", "json", "sarif", "html"]
FORMATS: tuple[Format, ...] = ("md", "json", "sarif", "html")


def render(report: Report, fmt: Format, full: bool = False) -> str:
    """The report as text in one of FORMATS. Markdown and HTML summarise a whole-repository
    report (the worst 20 items per list, counts per rule) unless ``full``; JSON and SARIF
    always hold everything."""
    if fmt == "md":
        from backend_agent.analysis.report.renderers.markdown import render_markdown

        return render_markdown(report, full)
    if fmt == "html":
        from backend_agent.analysis.report.renderers.html import render_html

        return render_html(report, full)
    if fmt == "sarif":
        from backend_agent.analysis.security.sarif import to_sarif

        return json.dumps(to_sarif(r.as_finding() for r in report.risks), indent=2) + "\n"
    return json.dumps(report.as_dict(), indent=2) + "\n"
