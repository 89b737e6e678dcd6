"""Exported constants of a JavaScript/TypeScript file read without parsing it: string
constants, flat objects of strings (``as const``), and re-exports (barrels)."""

from __future__ import annotations

import re

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, Value

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
_COMMONJS = re.compile(
    rb"^(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=\s*" + _STRING.encode(), re.MULTILINE
)


def exported_constants(source: bytes) -> FileFacts:
    """The exported string constants, string objects and re-exports of one file."""
    facts = FileFacts()
    for match in _CONST.finditer(source):
        _export(facts, match.group(1), ("str", _literal(match, 2)))
    for match in _COMMONJS.finditer(source):
        _export(facts, match.group(1), ("str", _literal(match, 2)))
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
