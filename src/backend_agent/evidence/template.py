"""Report templates: the one an agent's prompt asks for, and the sections of a final answer.

An agent's prompt holds a template when it has a ``## … Report`` heading followed by ``###``
section headings (inside a fenced block or not), or the seed's five section headings on their
own. A final answer is split on headings (any level) or bold lines naming those sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEED_TITLE = "Backend Agent Report"
SEED_SECTIONS = ("Plan", "Endpoints/Contracts", "Database Impact", "Tests", "Risks & Rollbacks")
CHECK_HEADING = "Evidence check"  # the block the check appends; never a report section

_REPORT_TITLE = re.compile(r"^##\s+(.*\breport)\s*#*\s*$", re.IGNORECASE)
_SECTION = re.compile(r"^###\s+(.+?)\s*#*\s*$")
_HIGHER = re.compile(r"^#{1,2}\s")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*\*\*(.+?)\*\*\s*:?\s*$|^\s*__(.+?)__\s*:?\s*$")


@dataclass(frozen=True)
class ReportTemplate:
    """The report an agent is told to end with: its title and section names, in order."""

    title: str
    sections: tuple[str, ...]

    def section_for(self, *keywords: str) -> str | None:
        """The first section whose name contains one of ``keywords`` (lower case)."""
        for name in self.sections:
            folded = name.lower()
            if any(word in folded for word in keywords):
                return name
        return None


def find_template(prompt: str) -> ReportTemplate | None:
    """The report template ``prompt`` asks for, or None when it asks for none."""
    lines = prompt.splitlines()
    for index, line in enumerate(lines):
        title = _REPORT_TITLE.match(line.strip())
        if title is None:
            continue
        sections = _sections_after(lines, index + 1)
        if sections:
            return ReportTemplate(title.group(1).strip(), tuple(sections))
    headings = {section_key(m.group(1)) for line in lines if (m := _SECTION.match(line.strip()))}
    seed = [name for name in SEED_SECTIONS if section_key(name) in headings]
    if len(seed) >= 3:
        return ReportTemplate(SEED_TITLE, SEED_SECTIONS)
    return None


def _sections_after(lines: list[str], start: int) -> list[str]:
    """The ``###`` headings after a report title, up to the next higher heading or the end
    of the fenced block the title sits in."""
    sections: list[str] = []
    for line in lines[start:]:
        stripped = line.strip()
        if _FENCE.match(line) or _HIGHER.match(stripped):
            break
        section = _SECTION.match(stripped)
        if section:
            sections.append(section.group(1).strip())
    return sections


def section_key(name: str) -> str:
    """A section name compared loosely: case, punctuation and ``&``/``and`` do not matter."""
    folded = name.lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "", folded)


@dataclass(frozen=True)
class WrittenReport:
    """A final answer read against a template: whether it has the report, and its sections
    (template name -> the text under it, in the answer's order)."""

    found: bool
    sections: dict[str, str]


def read_report(text: str, template: ReportTemplate) -> WrittenReport:
    """The template's sections as ``text`` writes them. ``found`` when the text has the
    report's title or at least one of its section headings."""
    wanted = {section_key(name): name for name in template.sections}
    title_key = section_key(template.title)
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    current_level = 7
    found = False
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        name, level = (None, 7) if fenced else _heading(line)
        if name is None:
            if current is not None:
                current.append(line)
            continue
        key = section_key(name)
        if key == title_key:
            found, current = True, None
        elif key in wanted and wanted[key] not in sections:
            found = True
            current = sections.setdefault(wanted[key], [])
            current_level = level
        elif key == section_key(CHECK_HEADING) or level <= min(current_level, 2):
            current = None  # the report (or the section) ends here
        elif current is not None:
            current.append(line)
    texts = {name: "\n".join(body).strip() for name, body in sections.items()}
    return WrittenReport(found, texts)


def _heading(line: str) -> tuple[str | None, int]:
    """A heading's text and level; a bold line alone counts as a level-6 heading."""
    match = _HEADING.match(line)
    if match:
        return match.group(2).strip("*_ :"), len(match.group(1))
    bold = _BOLD_LINE.match(line)
    if bold:
        return (bold.group(1) or bold.group(2)).strip(" :"), 6
    return None, 7
