"""What a Python file that uses no queue library offers the others, read without parsing:
string constants and environment defaults, imports (re-exports), top-level function
signatures, and classes with annotated fields or constant attributes (payload models,
settings, enums). Parsing costs more than everything else together, and nine files in ten
need no more than this."""

from __future__ import annotations

import re

from backend_agent.analysis.endpoints.python.scan import Expr, constant_facts
from backend_agent.analysis.queues.python.facts import PyQueueFacts, Signature

_DEF = re.compile(rb"^(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(([^)]*)\)", re.MULTILINE)
_CLASS = re.compile(rb"^class[ \t]+(\w+)[ \t]*(?:\(([^)]*)\))?[ \t]*:", re.MULTILINE)
_FIELD = re.compile(r"^(\w+)[ \t]*:[ \t]*([^=#]+?)[ \t]*(?:=[ \t]*(.+?))?[ \t]*(?:#.*)?$")
_ATTR = re.compile(r"""^(\w+)[ \t]*=[ \t]*[rRuU]?(["'])([^"'\\]*)\2[ \t]*(?:#.*)?$""")
_IMPORT = re.compile(rb"^from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^)\n]+)\)?", re.MULTILINE)
_ENV = re.compile(
    rb"""^(\w+)[ \t]*(?::[^=\n]+)?=[ \t]*os\.(?:getenv|environ\.get)\([ \t]*["'](\w+)["']"""
    rb"""(?:[ \t]*,[ \t]*["']([^"'\n]*)["'])?[ \t]*\)""",
    re.MULTILINE,
)
_STRING = re.compile(r"""^[rRuU]?(["'])([^"'\\]*)\1$""")


def lexical_facts(source: bytes) -> PyQueueFacts:
    """The facts of one file, read without parsing."""
    found = PyQueueFacts(constant_facts(source))
    facts = found.names
    assigns = facts["assigns"].setdefault("", {})
    for match in _ENV.finditer(source):
        args: list[Expr] = [("s", match.group(2).decode())]
        if match.group(3) is not None:
            args.append(("s", match.group(3).decode("utf-8", "replace")))
        getenv: Expr = ("a", ("n", "os"), "getenv")
        assigns[match.group(1).decode()] = ("c", getenv, args, {}, _line(source, match.start()))
    facts["imports"]["os"] = (0, "os", None)
    for match in _IMPORT.finditer(source):
        module = match.group(1).decode()
        level = len(module) - len(module.lstrip("."))
        for item in match.group(2).decode("utf-8", "replace").split(","):
            name, _, alias = item.strip().partition(" as ")
            if name.strip().isidentifier():
                facts["imports"][(alias or name).strip()] = (
                    level,
                    module.lstrip("."),
                    name.strip(),
                )
    for match in _DEF.finditer(source):
        name, line = match.group(1).decode(), _line(source, match.start())
        params = tuple(
            p.strip() for p in match.group(2).decode("utf-8", "replace").split(",") if p.strip()
        )
        facts["functions"].setdefault(name, {"line": line, "decorators": [], "params": []})
        found.signatures.append(Signature(name, line, params))
    for match in _CLASS.finditer(source):
        name, line = match.group(1).decode(), _line(source, match.start())
        bases = tuple(b.strip() for b in (match.group(2) or b"").decode().split(",") if b.strip())
        fields, attrs = _class_body(source, match.end())
        before = source[: match.start()].rstrip().rsplit(b"\n", 1)[-1].strip()
        decorated = before.startswith((b"@dataclass", b"@dataclasses.dataclass", b"@attr"))
        facts["classes"][name] = {
            "line": line,
            "decorators": [],
            "bases": [_dotted(b) for b in bases if b.replace(".", "").isidentifier()],
            "attrs": attrs,
            "methods": {},
        }
        if fields and (bases or decorated):
            found.models[name] = tuple(fields)
            found.model_bases[name] = bases + (("dataclass",) if decorated else ())
    return found


def _class_body(
    source: bytes, start: int
) -> tuple[list[tuple[str, str, bool]], dict[str, tuple[Expr, int]]]:
    """Annotated fields and string attributes of the class body that starts at ``start``."""
    fields: list[tuple[str, str, bool]] = []
    attrs: dict[str, tuple[Expr, int]] = {}
    line_number = _line(source, start)
    indent: str | None = None
    for raw in source[start:].decode("utf-8", "replace").split("\n")[1:]:
        line_number += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        stripped = raw.lstrip()
        current = raw[: len(raw) - len(stripped)]
        if not current:
            break  # back at module level
        indent = indent or current
        if current != indent or stripped.startswith(("def ", "async def ", "@", "class ")):
            continue
        field = _FIELD.match(stripped)
        if field is not None:
            kind, default = field.group(2).strip(), field.group(3)
            fields.append((field.group(1), kind, default is None))
            literal = _STRING.match(default.strip()) if default else None
            if literal is not None:
                attrs[field.group(1)] = (("s", literal.group(2)), line_number)
            continue
        attr = _ATTR.match(stripped)
        if attr is not None:
            attrs[attr.group(1)] = (("s", attr.group(3)), line_number)
    return fields, attrs


def _dotted(text: str) -> Expr:
    head, *rest = text.split(".")
    value: Expr = ("n", head)
    for part in rest:
        value = ("a", value, part)
    return value


def _line(source: bytes, offset: int) -> int:
    return source.count(b"\n", 0, offset) + 1
