"""The rules every language shares, driven by the language's tables: one taint walk, one
reading of built strings, and the checks for sinks, secrets, MongoDB filters and JWT use.

A language module subclasses ``RuleBase``, fills in its tables (grammar, request sources,
sanitizers, sinks, signals) and overrides the few hooks where its syntax differs (how calls
spell their arguments, what an assignment assigns, framework settings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.call_checks import (
    JwtUse,
    check_jwt,
    check_sinks,
    record_limiter,
    record_passings,
)
from backend_agent.analysis.security.cors import hand_set_cors
from backend_agent.analysis.security.engine import Env, FileContext, descendants, operands
from backend_agent.analysis.security.secrets import token_format
from backend_agent.analysis.security.signals import SIGNALS, Signals
from backend_agent.analysis.security.sinks import (
    CLIENTS,
    ENV_EXPRESSIONS,
    ENV_READS,
    FORMAT_CALLS,
    KEY_ARGUMENTS,
    MONGO_METHODS,
    SINKS,
    Sink,
)
from backend_agent.analysis.security.syntax import Call, Grammar
from backend_agent.analysis.security.value_checks import (
    check_env_expression,
    check_env_read,
    check_key_arguments,
    check_mongo,
    check_secret,
    check_where,
)

# Tables of allowed values: ``FORMATS[x]``, ``ALLOWED.get(x)``.
_CONSTANT = re.compile(r"(?:[\w:]+(?:\.|::))?[A-Z][A-Z0-9_]+")
_LOOKUP_METHODS = frozenset({"get", "fetch"})
_LOOKUPS = frozenset({"subscript", "subscript_expression", "element_reference", "index_expression"})


class RuleBase:
    """The shared rules; the class attributes are the language's tables."""

    family: str  # "python", "javascript", "go", "ruby": keys the shared tables
    grammar: Grammar
    extra_nodes: frozenset[str] = frozenset()  # further node types the language checks
    assignments: Mapping[str, tuple[str, str]] = {}  # node type -> (target, value) fields
    opaque_targets: frozenset[str] = frozenset()  # targets whose names are not variables
    header_nodes: frozenset[str]  # node types that may set a response header
    header_setters: frozenset[str] = frozenset()  # ``res.setHeader(name, value)``
    sources: re.Pattern[str]  # request data: matched at the start of a source node's text
    source_types: frozenset[str]
    source_names: frozenset[str] = frozenset()  # identifiers that are request data (``params``)
    sanitizers: frozenset[str]  # calls (by name or callee) whose result carries no taint
    scalar_casts: frozenset[str] = frozenset()  # calls that make a filter value a scalar
    apps: Mapping[str, str] = {}  # callee creating an HTTP application -> framework
    signal_calls: Mapping[str, str] = {}  # callee -> signal it shows

    def __init__(self) -> None:
        self.scope_types = self.grammar.scopes
        self.literal_types = self.grammar.strings - self.grammar.commands
        self.names = self.grammar.identifiers | self.grammar.patterns
        g = self.grammar
        self.interesting = (
            g.calls | g.strings | g.binaries | set(g.pairs) | set(self.assignments)
        ) | (self.header_nodes | self.extra_nodes)
        self.sinks: tuple[Sink, ...] = SINKS[self.family]
        self.key_arguments = KEY_ARGUMENTS[self.family]
        self.mongo_methods = MONGO_METHODS.get(self.family)
        self.env_reads = ENV_READS.get(self.family)
        self.env_expression = ENV_EXPRESSIONS.get(self.family)
        self.format_calls = FORMAT_CALLS.get(self.family)
        self.clients: re.Pattern[str] = CLIENTS[self.family]
        self.signals: Signals = SIGNALS[self.family]

    # --- what values hold ----------------------------------------------------------------

    def is_tainted(self, node: Node, env: Env) -> bool:
        """Whether the expression carries request data: a source, or a name holding one,
        anywhere in it except inside function literals and sanitizing conversions."""
        g = self.grammar
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind in g.identifiers and (
                node_text(current) in env.tainted or node_text(current) in self.source_names
            ):
                return True
            if kind in self.source_types and self.sources.match(node_text(current)):
                return True
            if self.extra_source(current):
                return True
            if kind in g.functions or (kind in g.calls and self._sanitizing(current)):
                continue
            if kind in g.calls and self._store_lookup(current, env):
                continue  # users.get(token): what the server stored, not what the client sent
            if kind in _LOOKUPS and _CONSTANT.fullmatch(node_text(current.named_children[0])):
                continue  # ALLOWED[x]: a value from a fixed table
            if kind in g.conditionals:
                condition = current.child_by_field_name("condition") or current.named_children[1]
                stack.extend(c for c in current.named_children if c != condition)
            elif kind in g.members:
                stack.extend(_field(current, g.members[kind]))
            elif kind in g.pairs:
                stack.extend(_field(current, g.pairs[kind]))
            elif kind in g.strings:
                stack.extend(c for c in current.children if c.type in g.interpolations)
            else:
                stack.extend(current.children)
        return False

    def _sanitizing(self, call: Node) -> bool:
        """Conversions (``int(x)``, ``parseInt``) and lookups in constant tables
        (``FORMATS.fetch(x)``, ``ALLOWED.get(x)``) end the taint."""
        callee = self.grammar.callee(call)
        if callee in self.sanitizers or callee.rsplit(".", 1)[-1] in self.sanitizers:
            return True
        receiver, _dot, name = callee.rpartition(".")
        return name in ("fetch", "get") and _CONSTANT.fullmatch(receiver) is not None

    def _store_lookup(self, call: Node, env: Env) -> bool:
        """``store.get(key)`` on a receiver that is not request data itself."""
        function = call.child_by_field_name("function")
        member = function is not None and function.type in self.grammar.members
        name = self.grammar.callee(call).rsplit(".", 1)[-1]
        if not member or name not in _LOOKUP_METHODS or function is None:
            return False
        receiver = function.child_by_field_name(self.grammar.members[function.type])
        return receiver is not None and not self.is_tainted(receiver, env)

    def is_built(self, node: Node, env: Env) -> bool:
        """Whether the expression is a string built from non-literal parts."""
        g, kind = self.grammar, node.type
        if kind in g.identifiers:
            return node_text(node) in env.built
        if kind in g.parentheses or kind in g.concatenations:
            return any(self.is_built(c, env) for c in node.named_children)
        if kind in g.strings:
            return any(c.type in g.interpolations and not self.escaped(c) for c in node.children)
        if kind in g.binaries:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            operator = node_text(node.child_by_field_name("operator"))
            if left is None or right is None:
                return False
            if operator == "%" and g.format_operator:
                return self._stringy(left, env) and not g.literal(right)
            parts = operands(node, "+") if operator == "+" else []
            return any(self._stringy(p, env) for p in parts) and not all(map(g.literal, parts))
        if kind in g.calls:
            return self.formatted(node, env)
        return False

    def _stringy(self, node: Node, env: Env) -> bool:
        return self.grammar.stringy(node) or self.is_built(node, env)

    def formatted(self, node: Node, env: Env) -> bool:
        """``fmt.Sprintf(f, x)``-style calls with a non-literal argument build strings."""
        if self.format_calls is None or not self.format_calls.fullmatch(self.grammar.callee(node)):
            return False
        args = self.call(node).args
        return len(args) > 1 and not all(self.grammar.literal(a) for a in args[1:])

    def function_name(self, scope: Node) -> str:
        """``def name``, ``func Name``, ``const name = (…) => …``, ``name(…) { … }``."""
        name = scope.child_by_field_name("name")
        parent = scope.parent
        if name is None and parent is not None and parent.type in self.assignments:
            name = parent.child_by_field_name(self.assignments[parent.type][0])
        return node_text(name).rsplit(".", 1)[-1] if name is not None else ""

    def parameters(self, scope: Node) -> dict[str, int]:
        found: dict[str, int] = {}
        parameters = scope.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else []:
            names = (
                [parameter]
                if parameter.type in self.grammar.identifiers
                else [c for c in parameter.named_children if c.type in self.grammar.identifiers][:1]
                + parameter.children_by_field_name("name")
            )
            for name in dict.fromkeys(node_text(n) for n in names):
                if name not in ("self", "cls"):
                    found[name] = len(found)
        return found

    def is_client(self, node: Node, env: Env) -> bool:
        return (node.type in self.grammar.identifiers and node_text(node) in env.clients) or bool(
            self.clients.match(node_text(node))
        )

    # --- hooks a language overrides ------------------------------------------------------

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        """For an assignment-like node: the names assigned and the value assigned to them."""
        fields = self.assignments.get(node.type)
        if fields is None:
            return
        target, value = (node.child_by_field_name(f) for f in fields)
        if target is not None and value is not None and target.type not in self.opaque_targets:
            yield [node_text(n) for n in descendants(target) if n.type in self.names], value

    def arguments(self, node: Node) -> tuple[list[Node], dict[str, Node]]:
        """Positional arguments, and keyword or option arguments by name."""
        arglist = node.child_by_field_name("arguments")
        found = arglist.named_children if arglist is not None else []
        return [a for a in found if a.type != "comment"], {}

    def named_values(self, node: Node) -> Iterable[tuple[str, Node]]:
        """Values given a name here (assignments, keyword arguments, dictionary entries)."""
        return ()

    def imports(self, node: Node) -> list[str]:
        return []

    def headers(self, node: Node) -> list[tuple[str, Node]]:
        """Response headers set here, as (lower-case name, value): ``setHeader(name, v)``
        and the like, ``{"Name": v}`` and ``headers["Name"] = v``."""
        g = self.grammar
        name: str | None = None
        value: Node | None = None
        if node.type in g.calls and g.callee(node).rsplit(".", 1)[-1] in self.header_setters:
            args = self.arguments(node)[0]
            if len(args) == 2:
                name, value = g.string_value(args[0]), args[1]
        elif node.type in g.pairs:
            name, value = g.string_value(node.child_by_field_name("key")), _value(node, g)
        elif node.type in self.assignments:
            target, assigned = (node.child_by_field_name(f) for f in self.assignments[node.type])
            name, value = g.string_value(self.subscript_key(target)), assigned
        return [(name.lower(), value)] if name and value is not None else []

    def subscript_key(self, target: Node | None) -> Node | None:
        """The key of ``headers["Name"]`` when it is assigned to."""
        return None

    def extra_source(self, node: Node) -> bool:
        return False

    def escaped(self, interpolation: Node) -> bool:
        """An interpolation that cannot inject anything (``{int(x)}``)."""
        return False

    def url_of(self, argument: Node) -> Node | None:
        return argument

    def documentation(self, node: Node) -> bool:
        return False

    def jwt(self, call: Call) -> JwtUse | None:
        return None

    def whole_filter(self, query: Node, env: Env) -> bool:
        """Whether ``query`` (not a literal mapping) is request data used as a whole filter."""
        return False

    def filter_entries(self, call: Call, query: Node | None) -> list[tuple[str, Node]]:
        return self.entries(query) if query is not None else []

    def safe_filter_value(self, value: Node) -> bool:
        call = value.type in self.grammar.calls
        return call and self.grammar.callee(value).rsplit(".", 1)[-1] in self.scalar_casts

    def check_language(self, node: Node, env: Env, ctx: FileContext) -> None:
        """Checks of the language's own frameworks (settings, debug switches)."""

    def check_language_call(self, call: Call, env: Env, ctx: FileContext) -> None:
        """Checks of the language's own frameworks on a call."""

    # --- the checks ------------------------------------------------------------------------

    def call(self, node: Node) -> Call:
        function = node.child_by_field_name("function")
        target = node.child_by_field_name("receiver")
        if function is not None and function.type in self.grammar.members:
            target = function.child_by_field_name(self.grammar.members[function.type])
        args, options = self.arguments(node)
        return Call(node, self.grammar.callee(node), target, args, options)

    def check(self, node: Node, env: Env, ctx: FileContext) -> None:
        """Run every rule that applies to this node."""
        kind = node.type
        if kind in self.header_nodes:
            scope = node
            while scope.parent is not None and scope.type not in self.scope_types:
                scope = scope.parent
            cors = hand_set_cors(
                node,
                scope,
                lambda value: self.is_tainted(value, env),
                self.headers,
                self.grammar.string_value,
            )
            if cors is not None:
                ctx.emit("cors", node, cors)
            if any(name == "set-cookie" for name, _value in self.headers(node)):
                ctx.signals.add("sessions")  # a cookie set by hand is a session too
        if kind in self.grammar.calls:
            self.check_call(self.call(node), env, ctx)
        for name, value in self.named_values(node):
            check_secret(self, name, value, ctx)
        if kind in self.literal_types and not self.documentation(node):
            literal = self.grammar.string_value(node)
            if literal is not None:
                self.signals.see_string(literal, ctx)
                if token_format(literal):
                    message = "a string literal has the format of a real credential"
                    ctx.emit("hardcoded-secret.token-format", node, message)
        for module in self.imports(node):
            self.signals.see_import(module, ctx)
        if kind in self.grammar.binaries:
            check_env_expression(self, node, ctx)
        if kind in self.grammar.pairs:
            check_where(self, node, ctx)
        self.check_language(node, env, ctx)

    def check_call(self, call: Call, env: Env, ctx: FileContext) -> None:
        if call.callee in self.apps:
            ctx.app(self.apps[call.callee], call.node)
        if call.callee in self.signal_calls:
            ctx.signals.add(self.signal_calls[call.callee])
        check_sinks(self, call, env, ctx)
        record_passings(self, call, env, ctx)
        check_key_arguments(self, call, ctx)
        if self.mongo_methods is not None and self.mongo_methods.fullmatch(call.callee):
            self.check_mongo(call, env, ctx)
        use = self.jwt(call)
        if use is not None:
            check_jwt(self, use, ctx)
        check_env_read(self, call, ctx)
        record_limiter(self, call, ctx)
        self.check_language_call(call, env, ctx)

    def check_mongo(self, call: Call, env: Env, ctx: FileContext) -> None:
        """Request data as a MongoDB filter (only in projects using MongoDB)."""
        check_mongo(self, call, env, ctx)

    def constant(self, value: Node) -> bool:
        """A literal, a function literal, or a name the language makes constant."""
        return self.grammar.literal(value) or value.type in self.grammar.functions

    def key_name(self, key: Node) -> str:
        """``"name"``, ``name``, ``:name`` and ``name:`` all name ``name``."""
        literal = self.grammar.string_value(key)
        return literal if literal is not None else node_text(key).strip(":").strip("\"'")

    def entries(self, mapping: Node) -> list[tuple[str, Node]]:
        """(key, value) of a dictionary, object or hash literal."""
        return self.pair_entries(mapping.named_children)

    def pair_entries(self, pairs: list[Node]) -> list[tuple[str, Node]]:
        found = []
        for pair in pairs:
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if pair.type in self.grammar.pairs and key is not None and value is not None:
                found.append((self.key_name(key), value))
        return found


def _value(pair: Node, grammar: Grammar) -> Node | None:
    return pair.child_by_field_name(grammar.pairs[pair.type])


def _field(node: Node, name: str) -> list[Node]:
    child = node.child_by_field_name(name)
    return [child] if child is not None else []
