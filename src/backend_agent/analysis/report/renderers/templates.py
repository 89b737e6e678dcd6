"""The Jinja2 environment of the report templates (shipped as package data beside this module).

Templates named ``*.html`` and ``*.svg`` are autoescaped; ``*.md`` ones are not (Markdown has
no escaping to do, and code spans are made by the ``code`` filter).
"""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from backend_agent.analysis.report.renderers import text


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("backend_agent.analysis.report.renderers", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(code=code_span, prose=prose, path=breakable_path, clip=clip)
    env.globals.update(
        at=text.at,
        plan_summary=text.plan_summary,
        change_label=text.change_label,
        endpoint_label=text.endpoint_label,
        endpoint_detail=text.endpoint_detail,
        operation_label=text.operation_label,
        result_label=text.result_label,
    )
    return env


def code_span(value: object) -> str:
    """A Markdown code span (backquotes inside become a look-alike that cannot end it)."""
    return f"`{str(value).replace('`', 'ʼ')}`"


def clip(value: object, limit: int | None) -> str:
    """The text cut at a word before ``limit`` characters (None: whole), with an ellipsis; a
    code span cut open is closed again."""
    text = str(value)
    if limit is None or len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    if cut.count("``") % 2:  # inside a ``double-backquoted`` span
        cut += " ``"
    elif cut.replace("``", "").count("`") % 2:
        cut += "`"
    return cut + " …"


def prose(value: object) -> Markup:
    """HTML: escaped text whose `backquoted` (or ``double-backquoted``) parts become code."""
    spans = re.compile(r"`` (.+?) ``|`([^`]+)`")
    text = str(escape(str(value)))
    return Markup(spans.sub(lambda m: f"<code>{m.group(1) or m.group(2)}</code>", text))


def breakable_path(value: object) -> Markup:
    """HTML: an escaped path that may wrap after a slash and only there (not at a hyphen):
    each segment is an unbreakable span, with a break opportunity after it."""
    parts = str(value).split("/")
    segments = [f"{part}/" for part in parts[:-1]] + [parts[-1]]
    return Markup("<wbr>".join(f'<span class="seg">{escape(s)}</span>' for s in segments))
