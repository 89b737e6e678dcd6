"""The Backend Agent Report: ``model`` (the data), ``build`` (from a repository) and ``render``
(Markdown, JSON, SARIF, HTML)."""

from backend_agent.analysis.report.build import (
    BuildContext,
    SectionBuilder,
    build_report,
    database_impact,
    security_findings,
)
from backend_agent.analysis.report.model import (
    Report,
    Risk,
    Row,
    Subsection,
)
from backend_agent.analysis.report.renderers import FORMATS, Format, render

__all__ = [
    "FORMATS",
    "BuildContext",
    "Format",
    "Report",
    "Risk",
    "Row",
    "SectionBuilder",
    "Subsection",
    "build_report",
    "database_impact",
    "render",
    "security_findings",
]
