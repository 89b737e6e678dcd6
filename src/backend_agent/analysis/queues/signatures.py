"""Whether a job's new parameter list still accepts the arguments of jobs enqueued with the
old one (Python and Ruby signatures as written; Go river argument structs are JSON)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend_agent.analysis.endpoints.model import Compatibility

_NAME = re.compile(r"^[*&]{0,2}([A-Za-z_]\w*)")
RUBY_FRAMEWORKS = frozenset({"sidekiq", "activejob", "resque"})


@dataclass(frozen=True)
class Parameter:
    name: str
    required: bool
    keyword: bool  # passed by name (Python keyword-only, Ruby ``name:``)
    variadic: bool  # *args, **kwargs, *rest


def parse(params: tuple[str, ...] | list[str], ruby: bool = False) -> list[Parameter]:
    """Parameters as written: ``order_id: int``, ``notify=False``, ``*args`` (Python) or
    ``retry: 0``, ``name:`` (Ruby)."""
    found: list[Parameter] = []
    keyword_only = False
    for text in params:
        text = text.strip()
        if text == "*":
            keyword_only = True
            continue
        match = _NAME.match(text)
        if match is None or match.group(1) in ("self", "cls") or text.startswith("&"):
            continue
        variadic = text.startswith("*")
        keyword_only = keyword_only or (variadic and not text.startswith("**"))
        rest = text[match.end() :].strip()
        # Ruby keywords are `name:` or `name: default`; Python annotations are `name: type`
        # (told apart by the language's own parameter texts: Ruby has no annotations)
        ruby_keyword = rest.startswith(":") and ruby
        has_default = "=" in rest or (ruby_keyword and rest[1:].strip() != "")
        found.append(
            Parameter(
                match.group(1),
                required=not has_default and not variadic,
                keyword=keyword_only or ruby_keyword,
                variadic=variadic,
            )
        )
    return found


def compatibility(old: tuple[str, ...], new: tuple[str, ...], framework: str) -> Compatibility:
    """``non-breaking`` when every old call still binds (new parameters are optional and
    nothing old was removed or reordered), else ``breaking``; river arguments are JSON
    fields (missing ones decode as zero values): ``possibly-breaking``."""
    if framework == "river":
        return "possibly-breaking"
    ruby = framework in RUBY_FRAMEWORKS
    before, after = parse(old, ruby), parse(new, ruby)
    accepts_any = any(p.variadic for p in after)
    old_positional = [p.name for p in before if not p.keyword and not p.variadic]
    new_positional = [p.name for p in after if not p.keyword and not p.variadic]
    if new_positional[: len(old_positional)] != old_positional and not accepts_any:
        return "breaking"
    old_names = {p.name for p in before}
    if any(p.required and p.name not in old_names for p in after):
        return "breaking"
    new_names = {p.name for p in after}
    if any(p.name not in new_names for p in before if not p.variadic) and not accepts_any:
        return "breaking"
    return "non-breaking"
