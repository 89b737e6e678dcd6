"""The language-independent core of the security scan: scopes, simple taint, emitting findings.

A language module supplies a ``LanguageRules`` object; ``scan_file`` parses the file, groups the
interesting nodes by the function that contains them, works out per function which variables
hold request data ("tainted") or strings built from non-literal parts ("built"), then lets the
language's checks look at each node with that knowledge. Comments are never looked at: they
are separate nodes in the tree, so rules only ever see code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from tree_sitter import Node, Query, QueryCursor

from backend_agent.analysis.findings import Finding
from backend_agent.analysis.parsing import LanguageName, grammar, parse
from backend_agent.analysis.security.rules import RULES


@dataclass
class Env:
    """What is known inside one function: names holding request data or built strings."""

    tainted: set[str] = field(default_factory=set)
    built: dict[str, Node] = field(default_factory=dict)


@dataclass(frozen=True)
class AppSite:
    """Where an HTTP application is created: the anchor of project-level findings."""

    language: str
    framework: str
    file: str
    line: int


@dataclass
class FileContext:
    """One file being scanned: its path, and what the scan found in it."""

    path: str
    language: str
    findings: list[Finding] = field(default_factory=list)
    signals: set[str] = field(default_factory=set)  # e.g. "rate-limit", "sessions"
    apps: list[AppSite] = field(default_factory=list)
    # Findings that hold only if some file of the language shows a signal ("mongodb"): a
    # ``where(name: params[:name])`` is operator injection with Mongoid, not with ActiveRecord.
    conditional: list[tuple[str, Finding]] = field(default_factory=list)

    def emit(self, rule_id: str, node: Node, message: str) -> None:
        self.findings.append(self._finding(rule_id, node, message))

    def emit_if(self, signal: str, rule_id: str, node: Node, message: str) -> None:
        """Report the finding only if the project (this language) shows ``signal``."""
        self.conditional.append((signal, self._finding(rule_id, node, message)))

    def _finding(self, rule_id: str, node: Node, message: str) -> Finding:
        rule = RULES[rule_id]
        line = node.start_point[0] + 1
        return Finding(rule_id, rule.severity, message, self.path, line, rule.fix)

    def app(self, framework: str, node: Node) -> None:
        self.apps.append(AppSite(self.language, framework, self.path, node.start_point[0] + 1))


class LanguageRules(Protocol):
    """What a language module tells the core about its grammar, plus its checks."""

    scope_types: frozenset[str]  # function-like nodes: each gets its own Env
    interesting: frozenset[str]  # node types handed to ``assigned`` and ``check``

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        """For an assignment-like node: the names assigned and the value assigned to them."""
        ...

    def is_tainted(self, node: Node, env: Env) -> bool:
        """Whether the expression carries request data."""
        ...

    def is_built(self, node: Node, env: Env) -> bool:
        """Whether the expression is a string built from non-literal parts."""
        ...

    def check(self, node: Node, env: Env, ctx: FileContext) -> None:
        """Run every rule that applies to this node."""
        ...


def text(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def operands(node: Node, operator: str) -> list[Node]:
    """The operands of ``a op b op c …`` in order, however long the chain (no recursion)."""
    parts, stack = [], [node]
    while stack:
        current = stack.pop()
        left, right = current.child_by_field_name("left"), current.child_by_field_name("right")
        same = (
            current.type == node.type and text(current.child_by_field_name("operator")) == operator
        )
        if same and left is not None and right is not None:
            stack += (right, left)
        else:
            parts.append(current)
    return parts


def all_literal(node: Node, leaf: Callable[[Node], bool], containers: frozenset[str]) -> bool:
    """Whether every leaf under ``containers`` (operators, lists, parentheses) is a literal."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in containers:
            stack.extend(c for c in current.named_children if c.type != "comment")
        elif not leaf(current):
            return False
    return True


def descendants(node: Node) -> Iterator[Node]:
    """The node and everything under it, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def scan_file(
    path: str, source: bytes, language: LanguageName, rules: LanguageRules
) -> FileContext:
    """Parse one file and run a language's rules over it."""
    family = "javascript" if language in ("typescript", "tsx") else language  # one app, one family
    ctx = FileContext(path, family)
    root = parse(source, language).root_node
    captures = QueryCursor(_query(language, rules)).captures(root)
    scopes = _group_by_scope(captures.get("scope", []), captures.get("node", []))
    envs: list[Env] = []
    for parent, nodes in scopes:  # a parent scope always precedes its children
        base = envs[parent] if parent >= 0 else Env()
        env = Env(set(base.tainted), dict(base.built))
        _propagate(rules, nodes, env)
        envs.append(env)
        for node in nodes:
            rules.check(node, env, ctx)
    return ctx


_QUERIES: dict[tuple[LanguageName, type], Query] = {}


def _query(language: LanguageName, rules: LanguageRules) -> Query:
    """One query capturing the scopes and the interesting nodes (the walk happens in C)."""
    key = (language, type(rules))
    if key not in _QUERIES:
        lang = grammar(language)
        known = [t for t in sorted(rules.scope_types) if lang.id_for_node_kind(t, True)]
        wanted = [t for t in sorted(rules.interesting) if lang.id_for_node_kind(t, True)]
        pattern = " ".join(f"({t}) @scope" for t in known) + " "
        pattern += " ".join(f"({t}) @node" for t in wanted)
        _QUERIES[key] = Query(lang, pattern)
    return _QUERIES[key]


def _group_by_scope(scopes: list[Node], nodes: list[Node]) -> list[tuple[int, list[Node]]]:
    """(parent scope index, nodes directly inside) per scope; index 0 is the whole file."""
    grouped: list[tuple[int, list[Node]]] = [(-1, [])]
    events = [(s.start_byte, -s.end_byte, 0, s) for s in scopes]
    events += [(n.start_byte, -n.end_byte, 1, n) for n in nodes]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    open_scopes: list[tuple[int, int]] = [(0, 1 << 62)]  # (index, end byte)
    for _start, negative_end, kind, node in events:
        while open_scopes[-1][1] < -negative_end:  # the node ends after this scope: outside
            open_scopes.pop()
        if kind == 0:
            grouped.append((open_scopes[-1][0], []))
            open_scopes.append((len(grouped) - 1, -negative_end))
        else:
            grouped[open_scopes[-1][0]][1].append(node)
    return grouped


def _propagate(rules: LanguageRules, nodes: list[Node], env: Env) -> None:
    """Flow-insensitive taint within one function: repeat until nothing new is learnt."""
    assignments = [pair for node in nodes for pair in rules.assigned(node)]
    changed = True
    while changed:
        changed = False
        for names, value in assignments:
            tainted = rules.is_tainted(value, env)
            built = rules.is_built(value, env)
            for name in names:
                if tainted and name not in env.tainted:
                    env.tainted.add(name)
                    changed = True
                if built and name not in env.built:
                    env.built[name] = value
                    changed = True


# --- CORS headers set by hand: shared by every language ---------------------------------------

HeaderSettings = Callable[[Node], list[tuple[str, Node]]]
"""A language's reading of one node as header assignments: (lower-case name, value) pairs."""


def hand_set_cors(
    node: Node,
    env: Env,
    rules: LanguageRules,
    headers: HeaderSettings,
    literal: Callable[[Node], str | None],
) -> str | None:
    """What is wrong with the ``Access-Control-Allow-Origin`` set at ``node``, if anything:
    ``*`` or the request's own origin, while the same function allows credentials.

    A reflected origin is fine when the function tests it first (``if ALLOWED.has(origin)``).
    Both headers must be set together: not under separate conditions (``if allow_all: …``,
    ``if allow_credentials: …``), as configurable CORS middleware does.
    """
    for name, value in headers(node):
        if name != "access-control-allow-origin":
            continue
        any_origin = literal(value) == "*"
        if not any_origin and not rules.is_tainted(value, env):
            continue
        scope = _enclosing(node, rules.scope_types)
        if not any_origin and _tested(node, scope, text(value)):
            continue
        branches = _branches(node, scope)
        if any(
            header == "access-control-allow-credentials"
            and (literal(allowed) or text(allowed)).lower() == "true"
            and _together(branches, _branches(found, scope))
            for found in descendants(scope)
            for header, allowed in headers(found)
        ):
            origin = "'*'" if any_origin else "the request's Origin"
            return f"Access-Control-Allow-Origin is set to {origin} together with credentials"
    return None


def _enclosing(node: Node, scope_types: frozenset[str]) -> Node:
    """The innermost function around ``node``, or the whole file."""
    scope = node
    while scope.parent is not None and scope.type not in scope_types:
        scope = scope.parent
    return scope


def _branches(node: Node, scope: Node) -> set[tuple[int, int]]:
    """The conditional branches (``if`` bodies, ``else`` parts) that ``node`` runs under."""
    found: set[tuple[int, int]] = set()
    current = node
    while current.parent is not None and current != scope:
        if current.parent.child_by_field_name("condition") is not None:
            found.add((current.start_byte, current.end_byte))
        current = current.parent
    return found


def _together(first: set[tuple[int, int]], second: set[tuple[int, int]]) -> bool:
    """Whether code under one set of branches always runs with code under the other."""
    return first <= second or second <= first


def _tested(node: Node, scope: Node, expression: str) -> bool:
    """Whether a condition mentioning ``expression`` (an allow-list check) guards ``node``:
    it encloses ``node``, or comes before it (``if (!ALLOWED.has(origin)) return``)."""
    for found in descendants(scope):
        condition = found.child_by_field_name("condition")
        if condition is None or expression not in text(condition):
            continue
        encloses = found.start_byte <= node.start_byte and node.end_byte <= found.end_byte
        if encloses or found.end_byte <= node.start_byte:
            return True
    return False


# --- secrets: shared by every language -------------------------------------------------------

_SECRET_LAST_WORDS = frozenset(
    {"secret", "password", "passwd", "pwd", "token", "apikey", "passphrase"}
)
_KEY_QUALIFIERS = frozenset(
    {"api", "secret", "private", "access", "signing", "encryption", "jwt", "session", "master"}
)
_TOKEN_FORMATS = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|(?:sk|rk)_live_[A-Za-z0-9]{20,}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\n){64}"
)


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return [p for p in re.split(r"[^a-z0-9]+", spaced) if p]


def secret_name(name: str) -> bool:
    """Whether an identifier names a secret: ``DB_PASSWORD``, ``jwtSecret``, ``api_key``."""
    if not re.fullmatch(r"[A-Za-z_$@][\w-]*", name):
        return False  # not an identifier: "AWS::IAM::AccessKey" is a type name
    parts = _words(name)
    if parts[-1:] == ["base"]:  # Rails' secret_key_base
        parts = parts[:-1]
    if not parts:
        return False
    if parts[-1] in _SECRET_LAST_WORDS:
        return True
    return parts[-1] == "key" and len(parts) > 1 and parts[-2] in _KEY_QUALIFIERS


def secret_value(name: str, value: str) -> bool:
    """Whether a literal given to a secret-named variable looks like a real secret.

    Not: placeholders, labels and sentences (``"Invalid password"``, ``"next_token"``,
    ``"X-Csrf-Token"``), nor values that repeat the name's own word (``"nextToken"`` for an
    ``input_token``, ``"password"`` for ``PASSWORD``): those name a field, they do not fill it.
    """
    if len(value) < 4 or any(ch.isspace() for ch in value) or len(set(value)) < 3:
        return False
    if value[0] in "$<{%" or re.fullmatch(r"[A-Z][A-Z0-9_]*|[a-z]+(_[a-z]+)+", value):
        return False  # a template, or the name of a variable or field
    if re.fullmatch(r"[A-Z][a-z0-9]*(-[A-Z][a-z0-9]*)+", value):
        return False  # a header name
    words = _words(name)
    return not (words and words[-1] in value.lower() and not any(c.isdigit() for c in value))


def token_format(value: str) -> bool:
    """Whether a literal has the shape of a real credential from a known provider."""
    return _TOKEN_FORMATS.search(value) is not None


SQL_TEXT = re.compile(
    r"\b(select\s.*\bfrom|insert\s+into|update\s+\S+\s+set|delete\s+from|where|order\s+by|"
    r"values|create\s+table|drop\s+table)\b",
    re.IGNORECASE | re.DOTALL,
)
