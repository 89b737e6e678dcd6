"""The scan of one file: scopes, what each function's variables hold, and collected findings.

A language supplies a ``LanguageRules`` object (the shared rule base configured by the
language's tables); ``scan_file`` parses the file, groups the interesting nodes by the function
that contains them, works out per function which variables hold request data ("tainted"),
strings built from non-literal parts ("built") or HTTP clients, then lets the rules look at each
node with that knowledge. Comments are separate nodes in the tree, so rules only ever see code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from tree_sitter import Node, Query, QueryCursor

from backend_agent.analysis.findings import Finding
from backend_agent.analysis.parsing import LanguageName, grammar, node_text, parse
from backend_agent.analysis.security.rules import REQUEST_DATA_RULES, RULES

FileRole = Literal["app", "build", "reference"]
_BOOLEAN_OPERATORS = frozenset({"binary_expression", "boolean_operator", "binary"})
# A condition on the environment: ``if app.get('env') === 'development'``, ``if DEBUG:``.
ENV_TEST = re.compile(r"(?i)env|development|debug")


@dataclass
class Env:
    """What is known inside one function: names holding request data, built strings, clients."""

    tainted: set[str] = field(default_factory=set)
    built: dict[str, Node] = field(default_factory=dict)
    clients: set[str] = field(default_factory=set)  # HTTP clients: requests.Session(), …
    function: str = ""  # the name of the function, if it has one
    parameters: dict[str, int] = field(default_factory=dict)  # its parameters, by position

    def child(self) -> Env:
        """A nested function's: it sees the enclosing variables, not the parameters."""
        return Env(set(self.tainted), dict(self.built), set(self.clients))


@dataclass(frozen=True)
class Wrapper:
    """A function that hands one of its parameters to a sink: calling it is calling the sink."""

    function: str
    parameter: int
    rule: str
    data: str  # what the sink needs: "tainted", "either", "built-sql"
    file: str
    line: int


@dataclass(frozen=True)
class Passing:
    """A call that passes request data (``tainted``) or a built string to some function."""

    function: str
    argument: int
    kind: str  # "tainted" or "built"
    callee: str
    text: str  # the argument's source (cut), to tell SQL from other strings
    line: int


@dataclass(frozen=True)
class AppSite:
    """Where an HTTP application is created: the anchor of project-level findings."""

    language: str
    framework: str
    file: str
    line: int


@dataclass
class FileContext:
    """One file being scanned: its path, and what the scan found in it.

    ``role``: ``app`` for application code; ``build`` for build and task scripts, where nothing
    comes from a request, so findings of the request-data rules (injection, SSRF, redirects)
    are dropped; ``reference`` for files served as they are, seed data and development or
    test configuration, where only credentials in the shape of real tokens are reported.
    """

    path: str
    language: str
    role: FileRole = "app"
    findings: list[Finding] = field(default_factory=list)
    signals: set[str] = field(default_factory=set)  # e.g. "rate-limit", "sessions"
    apps: list[AppSite] = field(default_factory=list)
    limited_lines: set[int] = field(default_factory=set)  # where a rate limiter is named
    limited_paths: set[str] = field(default_factory=set)  # route prefixes a limiter covers
    definitions: set[str] = field(default_factory=set)  # methods defined (Rails actions)
    aliases: dict[str, str] = field(default_factory=dict)  # imported name -> qualified name
    wrappers: list[Wrapper] = field(default_factory=list)
    passings: list[Passing] = field(default_factory=list)
    # Findings that hold only if some file of the language shows a signal ("mongodb"): a
    # ``where(name: params[:name])`` is operator injection with Mongoid, not with ActiveRecord.
    conditional: list[tuple[str, Finding]] = field(default_factory=list)

    def emit(self, rule_id: str, node: Node, message: str) -> None:
        self.emit_at(rule_id, node.start_point[0] + 1, message)

    def emit_at(self, rule_id: str, line: int, message: str) -> None:
        if not self._dropped(rule_id):
            rule = RULES[rule_id]
            self.findings.append(
                Finding(rule_id, rule.severity, message, self.path, line, rule.fix)
            )

    def emit_if(self, signal: str, rule_id: str, node: Node, message: str) -> None:
        """Report the finding only if the project (this language) shows ``signal``."""
        if not self._dropped(rule_id):
            self.conditional.append((signal, self._finding(rule_id, node, message)))

    def _dropped(self, rule_id: str) -> bool:
        if self.role == "reference":
            return rule_id != "hardcoded-secret.token-format"
        return self.role == "build" and rule_id.split(".")[0] in REQUEST_DATA_RULES

    def _finding(self, rule_id: str, node: Node, message: str) -> Finding:
        rule = RULES[rule_id]
        line = node.start_point[0] + 1
        return Finding(rule_id, rule.severity, message, self.path, line, rule.fix)

    def app(self, framework: str, node: Node) -> None:
        self.apps.append(AppSite(self.language, framework, self.path, node.start_point[0] + 1))


class LanguageRules(Protocol):
    """What the scan needs from a language: its scopes, its interesting nodes, and the rules."""

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

    def is_client(self, node: Node, env: Env) -> bool:
        """Whether the expression is an HTTP client object."""
        ...

    def function_name(self, scope: Node) -> str:
        """The name of a function-like node ("" when anonymous)."""
        ...

    def parameters(self, scope: Node) -> dict[str, int]:
        """The parameter names of a function-like node, by position."""
        ...

    def check(self, node: Node, env: Env, ctx: FileContext) -> None:
        """Run every rule that applies to this node."""
        ...


def operands(node: Node, operator: str) -> list[Node]:
    """The operands of ``a op b op c …`` in order, however long the chain (no recursion)."""
    parts, stack = [], [node]
    while stack:
        current = stack.pop()
        left, right = current.child_by_field_name("left"), current.child_by_field_name("right")
        same = (
            current.type == node.type
            and node_text(current.child_by_field_name("operator")) == operator
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
    """The node and everything under it (named or not), in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def guarded(node: Node, test: re.Pattern[str]) -> bool:
    """Whether ``node`` runs only when a condition matching ``test`` holds: inside an
    ``if``/``unless``/ternary on it, or on the right of ``condition && …``."""
    parent = node.parent
    while parent is not None:
        condition = parent.child_by_field_name("condition")
        if parent.type in _BOOLEAN_OPERATORS:
            condition = parent.child_by_field_name("left")
        if condition is not None and test.search(node_text(condition)):
            return True
        parent = parent.parent
    return False


def root_of(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def scan_file(
    path: str,
    source: bytes,
    language: LanguageName,
    rules: LanguageRules,
    role: FileRole = "app",
) -> FileContext:
    """Parse one file and run a language's rules over it."""
    family = "javascript" if language in ("typescript", "tsx") else language  # one app, one family
    ctx = FileContext(path, family, role)
    root = parse(source, language).root_node
    captures = QueryCursor(_query(language, rules)).captures(root)
    scopes = _group_by_scope(captures.get("scope", []), captures.get("node", []))
    envs: list[Env] = []
    for parent, scope, nodes in scopes:  # a parent scope always precedes its children
        env = envs[parent].child() if parent >= 0 else Env()
        if scope is not None:
            env.function, env.parameters = rules.function_name(scope), rules.parameters(scope)
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


def _group_by_scope(
    scopes: list[Node], nodes: list[Node]
) -> list[tuple[int, Node | None, list[Node]]]:
    """(parent scope index, scope, nodes directly inside) per scope; index 0 is the file."""
    grouped: list[tuple[int, Node | None, list[Node]]] = [(-1, None, [])]
    events = [(s.start_byte, -s.end_byte, 0, s) for s in scopes]
    events += [(n.start_byte, -n.end_byte, 1, n) for n in nodes]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    open_scopes: list[tuple[int, int]] = [(0, 1 << 62)]  # (index, end byte)
    for _start, negative_end, kind, node in events:
        while open_scopes[-1][1] < -negative_end:  # the node ends after this scope: outside
            open_scopes.pop()
        if kind == 0:
            grouped.append((open_scopes[-1][0], node, []))
            open_scopes.append((len(grouped) - 1, -negative_end))
        else:
            grouped[open_scopes[-1][0]][2].append(node)
    return grouped


def _propagate(rules: LanguageRules, nodes: list[Node], env: Env) -> None:
    """Flow-insensitive: repeat until nothing new is learnt about the function's names."""
    assignments = [pair for node in nodes for pair in rules.assigned(node)]
    changed = True
    while changed:
        changed = False
        for names, value in assignments:
            tainted = rules.is_tainted(value, env)
            built = rules.is_built(value, env)
            client = rules.is_client(value, env)
            for name in names:
                if tainted and name not in env.tainted:
                    env.tainted.add(name)
                    changed = True
                if built and name not in env.built:
                    env.built[name] = value
                    changed = True
                if client and name not in env.clients:
                    env.clients.add(name)
                    changed = True
