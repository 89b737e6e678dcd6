"""What a JavaScript/TypeScript file that uses no queue library offers the others, read
without parsing: exported string constants (also ``process.env.X ?? 'default'``), flat
objects of strings (``as const``), string enums, re-exports (barrels), and interfaces and
object type aliases with flat bodies (payload types)."""

from __future__ import annotations

import re

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, Value
from backend_agent.analysis.queues.javascript.facts import JsQueueFacts

_STRING = r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)"|`([^`\\$\n]*)`)"""
_CONST = re.compile(
    rb"^export\s+const\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w.<>\[\] |]+)?=\s*"
    + _STRING.encode()
    + rb"\s*(?:as\s+const\s*)?;?\s*$",
    re.MULTILINE,
)
_OBJECT = re.compile(
    rb"^export\s+const\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w.<>\[\] |]+)?=\s*\{([^{}]*)\}", re.MULTILINE
)
_FIELD = re.compile(rb"([A-Za-z_$][\w$]*|'[^']*'|\"[^\"]*\")\s*:\s*" + _STRING.encode())
_STAR = re.compile(rb"""^export\s+\*\s+from\s+['"]([^'"]+)['"]""", re.MULTILINE)
_NAMED = re.compile(
    rb"""^export\s+(?:type\s+)?\{([^}]*)\}\s+from\s+['"]([^'"]+)['"]""", re.MULTILINE
)
_ENV_DEFAULT = re.compile(
    rb"^export\s+const\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w.<>\[\] |]+)?=\s*process\.env\.(\w+)"
    rb"\s*(?:\?\?|\|\|)\s*" + _STRING.encode(),
    re.MULTILINE,
)
_ENUM = re.compile(rb"^export\s+(?:const\s+)?enum\s+(\w+)\s*\{([^{}]*)\}", re.MULTILINE)
_MEMBER = re.compile(rb"(\w+)\s*=\s*" + _STRING.encode())
_TYPE = re.compile(
    rb"^(?:export\s+)?(?:interface\s+(\w+)(?:<[^>{]*>)?(?:\s+extends\s+[^{]+)?|"
    rb"type\s+(\w+)(?:<[^>=]*>)?\s*=)\s*\{([^{}]*)\}",
    re.MULTILINE,
)
_PROPERTY = re.compile(
    rb"^\s*(?:readonly\s+)?['\"]?([\w$]+)['\"]?(\?)?\s*:\s*([^;,\n]+)", re.MULTILINE
)
_COMMONJS = re.compile(
    rb"^(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=\s*" + _STRING.encode(), re.MULTILINE
)


def lexical_facts(source: bytes) -> JsQueueFacts:
    """The facts of one file, read without parsing."""
    found = JsQueueFacts(exported_constants(source))
    for match in _TYPE.finditer(source):
        name = _decode(match.group(1) or match.group(2))
        found.types[name] = tuple(
            (_decode(p.group(1)), _decode(p.group(3)).strip(), p.group(2) is None)
            for p in _PROPERTY.finditer(match.group(3))
        )
    return found


def exported_constants(source: bytes) -> FileFacts:
    """The exported string constants, string objects, enums and re-exports of one file."""
    facts = FileFacts()
    for match in _CONST.finditer(source):
        _export(facts, match.group(1), ("str", _literal(match, 2)))
    for match in _COMMONJS.finditer(source):
        _export(facts, match.group(1), ("str", _literal(match, 2)))
    for match in _ENV_DEFAULT.finditer(source):
        env: Value = ("member", ("member", ("ref", "process"), "env"), _decode(match.group(2)))
        _export(facts, match.group(1), ("or", env, ("str", _literal(match, 3))))
    for match in _ENUM.finditer(source):
        members = tuple(
            (_decode(m.group(1)), ("str", _literal(m, 2))) for m in _MEMBER.finditer(match.group(2))
        )
        _export(facts, match.group(1), ("obj", members))
    for match in _OBJECT.finditer(source):
        fields = tuple(
            (_decode(field.group(1)).strip("'\""), ("str", _literal(field, 2)))
            for field in _FIELD.finditer(match.group(2))
        )
        if fields:
            _export(facts, match.group(1), ("obj", fields))
    for match in _NAMED.finditer(source):
        spec = _decode(match.group(2))
        for item in _decode(match.group(1)).split(","):
            name, _, alias = item.strip().partition(" as ")
            if name.strip():
                facts.exports[(alias or name).strip()] = ("import", spec, name.strip())
    for match in _STAR.finditer(source):
        facts.exports.setdefault("*", ("import", _decode(match.group(1)), "*"))
    return facts


def _export(facts: FileFacts, name: bytes, value: Value) -> None:
    key = _decode(name)
    facts.bindings[key] = value
    facts.exports[key] = value


def _literal(match: re.Match[bytes], first: int) -> str:
    """The content of whichever quote style matched (groups ``first`` to ``first + 2``)."""
    for group in range(first, first + 3):
        found = match.group(group)
        if found is not None:
            return _decode(found)
    return ""


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")
