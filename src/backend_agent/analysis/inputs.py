"""Configuration files the analysis reads (package.json, pyproject.toml, setup.cfg, go.mod,
Gemfile, database.yml, schema.prisma, OpenAPI documents), parsed so that a syntax error
becomes a note naming the file and the line, and the analysis goes on without that file."""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from typing import Any

from backend_agent.analysis.project import Project

_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")
_ERB = re.compile(r"<%.*?%>", re.DOTALL)
GO_DIRECTIVES = frozenset(
    {"module", "go", "toolchain", "godebug", "require", "replace", "exclude", "retract", "tool",
     "ignore"}
)  # fmt: skip


def _text(project: Project, path: str) -> str | None:
    """The file's text; None for a binary or non-UTF-8 file (noted once by the project)."""
    text = project.read_text(path)
    return text if text or project.is_text(path) else None


def load_json(project: Project, path: str) -> Any:
    """The file's JSON value; None (and a note) when it does not parse."""
    text = _text(project, path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        project.note(path, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return None


def load_toml(project: Project, path: str) -> dict[str, Any]:
    """The file's TOML table; {} (and a note) when it does not parse."""
    text = _text(project, path)
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_AT.search(str(exc))
        line = int(found.group(1)) if found else len(text.rstrip("\n").splitlines())
        message = _TOML_AT.sub("", str(exc)).replace("(at end of document)", "").strip()
        project.note(path, line, f"invalid TOML: {message}")
        return {}


def load_ini(project: Project, path: str) -> configparser.ConfigParser | None:
    """The file as an INI configuration (setup.cfg); None (and a note) when it does not parse."""
    text = _text(project, path)
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.ParsingError as exc:
        line = exc.errors[0][0] if exc.errors else 0
        project.note(path, line, "invalid INI: a line that is neither a section, a key nor a value")
        return None
    except configparser.Error as exc:
        line = getattr(exc, "lineno", 0) or 0
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        project.note(path, line, f"invalid INI: {first}")
        return None
    return parser


def load_yaml(project: Project, path: str, erb: bool = False) -> Any:
    """The file's YAML value (``erb``: Rails' <% %> tags blanked first, lines kept); None (and
    a note) when it does not parse."""
    import yaml

    text = _text(project, path)
    if text is None:
        return None
    if erb:
        text = _ERB.sub(lambda m: re.sub(r"[^\n]", "x", m.group(0)), text)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        note_yaml_error(project, path, exc)
        return None


def note_yaml_error(project: Project, path: str, exc: Exception) -> None:
    """A YAML error as a note at its line (PyYAML counts lines from 0)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    project.note(path, line, f"invalid YAML: {problem}")


def check_go_mod(project: Project, path: str) -> str:
    """go.mod's text, with a note for the first line that is no go.mod directive."""
    text = _text(project, path) or ""
    in_block = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if in_block:
            in_block = line != ")"
            continue
        word = line.split()[0].rstrip("(")
        if word not in GO_DIRECTIVES:
            project.note(path, number, f"invalid go.mod: unknown directive {word!r}")
            break
        in_block = line.endswith("(")
    return text


def check_ruby(project: Project, path: str) -> str:
    """A Ruby file's text (Gemfile), with a note at its first syntax error."""
    from backend_agent.analysis.parsing import parse

    text = _text(project, path) or ""
    root = parse(text.encode(), "ruby").root_node
    if root.has_error:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "ERROR" or node.is_missing:
                project.note(path, node.start_point[0] + 1, "invalid Ruby: syntax error")
                break
            stack.extend(reversed(node.children))
    return text


def check_prisma(project: Project, path: str) -> str:
    """schema.prisma's text, with a note at an unbalanced brace."""
    text = _text(project, path) or ""
    depth, opened = 0, 0
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("//", 1)[0]
        for char in code:
            if char == "{":
                depth, opened = depth + 1, opened or number
            elif char == "}":
                depth -= 1
                if depth < 0:
                    project.note(path, number, "invalid Prisma schema: '}' with no block open")
                    return text
        if depth == 0:
            opened = 0
    if depth > 0:
        project.note(path, opened, "invalid Prisma schema: block opened here is never closed")
    return text
