"""Phase one for JavaScript/TypeScript: one file's bindings, exports, functions and calls as
symbolic values (``facts``); what the calls and decorators mean is read by the framework
modules (``express``, ``fastify``, ``nest_scan``, ``sockets``, ``files``, ``apollo``)."""

from __future__ import annotations

import re

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript import (
    apollo,
    express,
    fastify,
    files,
    modules,
    nest_scan,
    sockets,
)
from backend_agent.analysis.endpoints.javascript.facts import (
    UNKNOWN,
    CallSite,
    ClassInfo,
    FileFacts,
    Value,
    describe,
)
from backend_agent.analysis.endpoints.javascript.syntax import (
    FUNCTIONS,
    line_of,
    param_name,
    string_of,
)
from backend_agent.analysis.parsing import LanguageName, node_text, parse

_UNWRAP = {
    "parenthesized_expression", "await_expression", "as_expression", "non_null_expression",
    "satisfies_expression", "type_assertion",
}  # fmt: skip
# Arguments that may carry a router, an app or a prefix into a function (recorded as calls).
_CARRIERS = ("ref", "param", "arr", "new", "obj")
# Array methods whose callback receives the elements: `controllers.forEach(c => ...)`.
_ITERATORS = ("forEach", "map")
# A function body that handles credentials: reads the Authorization header or checks a token.
_CREDENTIALS = re.compile(
    rb"authorization|jwtVerify|verifyToken|jwt\.verify|verifyJwt|bearer", re.IGNORECASE
)
# Calls inside a handler that may check the user (file-system routes keep auth there).
_USER_CALL = re.compile(r"auth|session|user|token|jwt|login|guard|protect|permission|role", re.I)
# A function body that can turn a request away.
_REJECTS = re.compile(
    rb"\bthrow\b|\b40[13]\b|Unauthori[sz]ed|Forbidden|redirect\(|\.status\(\s*4\d\d|"
    rb"sendStatus\(\s*4\d\d|next\(\s*(?:new\s+)?\w*(?:Error|error|err)\b"
)
# Where a request's route config lives (fastify ``request.routeOptions.config``, ...).
_ROUTE_CONFIG = ("config", "routeConfig")


def scan_source(source: bytes, language: LanguageName) -> FileFacts:
    """Facts of one file (see ``facts``); tolerant of syntax errors."""
    scanner = Scanner()
    scanner.visit(parse(source, language).root_node)
    return scanner.facts


class Scanner:
    """Walks one file, recording symbolic values; framework modules read calls through it.
    Other analyses subclass it and override the ``on_call`` and ``on_class`` hooks to see
    every call and class with evaluated values."""

    def __init__(self) -> None:
        self.facts = FileFacts()
        self.scopes: list[tuple[str, set[str]]] = [("", set())]
        self.classes: list[str] = []
        self.socket_params: dict[str, Value] = {}  # param key -> socket.io server value

    # ---- scopes -------------------------------------------------------------------------

    def key(self, name: str) -> str:
        scope = self.scopes[-1][0]
        return f"{scope}/{name}" if scope else name

    def declare(self, name: str, value: Value) -> str:
        self.scopes[-1][1].add(name)
        key = self.key(name)
        self.facts.bindings[key] = value
        return key

    def lookup(self, name: str) -> Value:
        for scope, names in reversed(self.scopes):
            if name in names:
                return ("ref", f"{scope}/{name}" if scope else name)
        return ("ref", name)

    def function_key(self) -> str:
        """The innermost function being walked ("" at module level)."""
        return self.scopes[-1][0]

    # ---- hooks for subclasses (no-ops here) ---------------------------------------------

    def on_call(self, kind: str, callee: Value, args: tuple[Value, ...], node: Node) -> None:
        """Every ``call`` or ``new`` expression, with its callee and arguments as values."""

    def on_class(self, name: str, decorators: list[Node], node: Node) -> None:
        """Every class declaration (``node``), with its decorators (outer ones included)."""

    # ---- statements ---------------------------------------------------------------------

    def visit(self, node: Node) -> None:
        kind = node.type
        if kind in ("lexical_declaration", "variable_declaration"):
            for child in node.named_children:
                if child.type == "variable_declarator":
                    self._declarator(child)
        elif kind in ("function_declaration", "generator_function_declaration"):
            name = node_text(node.child_by_field_name("name"))
            self.declare(name, ("fn", self.key(name)))
            self.function(node, self.key(name))
        elif kind in ("class_declaration", "abstract_class_declaration"):
            self.class_(node, [])
        elif kind == "export_statement":
            modules.export(self, node)
        elif kind == "import_statement":
            modules.import_(self, node)
        elif kind == "return_statement":
            if node.named_child_count:
                value = self.value(node.named_children[0])
                scope = self.scopes[-1][0]
                if scope and scope not in self.facts.returns:
                    self.facts.returns[scope] = value
        elif kind == "expression_statement":
            for child in node.named_children:
                self.value(child)
        elif kind == "switch_statement":
            files.switch(self, node)
        elif kind.endswith("expression"):  # e.g. an `if` condition
            self.value(node)
        else:
            for child in node.named_children:
                self.visit(child)

    def _declarator(self, node: Node) -> None:
        name = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        if name is None:
            return
        if name.type == "identifier":
            key = self.key(node_text(name))
            value = self.value(value_node, key) if value_node is not None else UNKNOWN
            self.declare(node_text(name), value)
            if value_node is not None:
                apollo.maybe_sdl(self, node_text(name), value_node)
        elif name.type == "object_pattern" and value_node is not None:
            source = self.value(value_node)
            for prop in name.named_children:
                if prop.type == "shorthand_property_identifier_pattern":
                    self.declare(node_text(prop), ("member", source, node_text(prop)))
                elif prop.type == "pair_pattern":
                    key_node, target = (
                        prop.child_by_field_name("key"),
                        prop.child_by_field_name("value"),
                    )
                    if target is not None and target.type == "identifier":
                        self.declare(node_text(target), ("member", source, node_text(key_node)))
        elif value_node is not None:
            self.value(value_node)

    def function(self, node: Node, key: str) -> None:
        """Walk a function body in its own scope, its parameters bound to ``param`` values."""
        self.scopes.append((key, set()))
        params = node.child_by_field_name("parameters")
        single = node.child_by_field_name("parameter")
        nodes = [single] if single is not None else (params.named_children if params else [])
        body = node.child_by_field_name("body")
        if body is not None and _CREDENTIALS.search(body.text or b""):
            self.facts.credential_functions.add(key)
        if body is not None and _REJECTS.search(body.text or b""):
            self.facts.rejecting.add(key)
        index = 0
        for param in nodes:
            if param.type in ("comment", "decorator"):
                continue
            name = param_name(param)
            if name:
                self.declare(name, ("param", key, index))
            default = _param_default(param)
            if default is not None:
                self.facts.param_defaults[f"{key}#{index}"] = self.value(default)
            index += 1
        if body is not None:
            if body.type == "statement_block":
                for statement in body.named_children:
                    self.visit(statement)
            else:
                self.facts.returns.setdefault(key, self.value(body))
        self.scopes.pop()

    # ---- classes ------------------------------------------------------------------------

    def class_(self, node: Node, outer: list[Node]) -> str:
        """A class: fields and methods as bindings (``Class.field``); Nest decorators read."""
        name = node_text(node.child_by_field_name("name")) or f"<class@{line_of(node)}>"
        self.declare(name, ("class", name))
        decorators = outer + [d for d in node.named_children if d.type == "decorator"]
        body = node.child_by_field_name("body")
        self.on_class(name, decorators, node)
        self.classes.append(name)
        routes = []
        methods: list[str] = []
        pending: list[Node] = []
        for member in body.named_children if body is not None else []:
            if member.type == "decorator":
                pending.append(member)
                continue
            member_decorators = pending + [
                d for d in member.named_children if d.type == "decorator"
            ]
            pending = []
            if member.type in ("public_field_definition", "field_definition"):
                field_name = member.child_by_field_name("name") or member.child_by_field_name(
                    "property"
                )
                value = member.child_by_field_name("value")
                if field_name is not None and value is not None:
                    key = f"{name}.{node_text(field_name)}"
                    self.facts.bindings[key] = self.value(value, key)
            elif member.type == "method_definition":
                method_name = node_text(member.child_by_field_name("name"))
                methods.append(method_name)
                route = nest_scan.method_route(self, decorators, member_decorators, name, member)
                if route is not None:
                    routes.append(route)
                self.facts.bindings[f"{name}.{method_name}"] = ("fn", f"{name}.{method_name}")
                self.function(member, f"{name}.{method_name}")
        self.classes.pop()
        self.facts.classes[name] = ClassInfo(
            _superclass(self, node), tuple(node_text(d) for d in decorators), tuple(methods)
        )
        nest_scan.class_facts(self, name, decorators, routes, node)
        return name

    def decorator_args(self, decorator: Node) -> tuple[Value, ...]:
        call = next((c for c in decorator.named_children if c.type == "call_expression"), None)
        return self.args(call.child_by_field_name("arguments")) if call is not None else ()

    # ---- expressions --------------------------------------------------------------------

    def value(self, node: Node | None, name: str = "") -> Value:
        """The symbolic value of an expression; walks nested functions for their routes."""
        if node is None:
            return UNKNOWN
        kind = node.type
        if kind in _UNWRAP:
            inner = node.named_children
            return self.value(inner[0], name) if inner else UNKNOWN
        if kind == "string":
            return ("str", string_of(node))
        if kind == "template_string":
            return self._template(node)
        if kind == "regex":  # a route pattern we cannot turn into a path
            return ("regex", node_text(node))
        if kind == "identifier":
            return self.lookup(node_text(node))
        if kind == "this":
            return ("this",)
        if kind == "member_expression":
            obj = self.value(node.child_by_field_name("object"))
            prop = node_text(node.child_by_field_name("property"))
            if obj == ("this",) and self.classes:
                return ("ref", f"{self.classes[-1]}.{prop}")
            self._config_read(obj, prop)
            return ("member", obj, prop)
        if kind == "binary_expression":
            return self._binary(node)
        if kind in FUNCTIONS:
            key = name or f"<fn@{line_of(node)}:{node.start_point[1]}>"
            self.function(node, key)
            return ("fn", key)
        if kind in ("class", "class_expression"):
            return ("class", self.class_(node, []))
        if kind == "call_expression":
            return self._call(node)
        if kind == "new_expression":
            ctor = self.value(node.child_by_field_name("constructor"))
            args = self.args(node.child_by_field_name("arguments"))
            value: Value = ("new", ctor, args, node.start_byte)
            self.facts.constructions.append((value, line_of(node)))
            self.on_call("new", ctor, args, node)
            return value
        if kind == "object":
            return self._object(node)
        if kind == "array":
            return ("arr", tuple(self.value(c) for c in node.named_children if c.type != "comment"))
        if kind == "assignment_expression":
            self._assign(node)
            return UNKNOWN
        for child in node.named_children:  # ternaries, spreads ...
            self.visit(child) if child.type.endswith("statement") else self.value(child)
        return ("unknown", node_text(node)[:80])

    def _template(self, node: Node) -> Value:
        parts: list[Value] = []
        raw = node_text(node)
        cursor = node.start_byte + 1
        for child in node.named_children:
            if child.type == "template_substitution":
                if child.start_byte > cursor:
                    parts.append(
                        ("str", raw[cursor - node.start_byte : child.start_byte - node.start_byte])
                    )
                inner = child.named_children
                parts.append(self.value(inner[0]) if inner else UNKNOWN)
                cursor = child.end_byte
        if node.end_byte - 1 > cursor:
            parts.append(
                ("str", raw[cursor - node.start_byte : node.end_byte - 1 - node.start_byte])
            )
        if all(p[0] == "str" for p in parts):
            return ("str", "".join(p[1] for p in parts))
        return ("tpl", tuple(parts))

    def _binary(self, node: Node) -> Value:
        left = self.value(node.child_by_field_name("left"))
        right = self.value(node.child_by_field_name("right"))
        operator = node_text(node.child_by_field_name("operator"))
        if operator == "+":
            return ("tpl", (left, right))
        if operator in ("||", "??"):
            return ("default", left, right)
        if operator in ("===", "==", "!==", "!="):
            files.method_comparison(self, node)
        return ("unknown", node_text(node)[:80])

    def _user_call(self, callee: Value) -> None:
        name = describe(callee)
        scope = self.function_key()
        if scope and _USER_CALL.search(name):
            calls = self.facts.auth_calls.get(scope, ())
            if name not in calls and len(calls) < 16:
                self.facts.auth_calls[scope] = (*calls, name)

    def _config_read(self, obj: Value, prop: str) -> None:
        """``request.routeOptions.config.auth`` (or through a variable): the hook being walked
        reads the route's ``auth`` setting."""
        depth = 0
        while obj[0] == "ref" and depth < 4:  # `const options = request.routeOptions.config`
            bound = self.facts.bindings.get(str(obj[1]))
            if bound is None:
                return
            obj, depth = bound, depth + 1
        if obj[0] == "member" and obj[2] in _ROUTE_CONFIG and prop not in _ROUTE_CONFIG:
            scope = self.function_key()
            keys = self.facts.config_reads.get(scope, ())
            if prop not in keys:
                self.facts.config_reads[scope] = (*keys, prop)

    def _object(self, node: Node) -> Value:
        pairs: list[tuple[str, Value]] = []
        for child in node.named_children:
            if child.type == "pair":
                key_node = child.child_by_field_name("key")
                key = (
                    string_of(key_node)
                    if key_node and key_node.type == "string"
                    else node_text(key_node)
                )
                pairs.append((key, self.value(child.child_by_field_name("value"), "")))
            elif child.type == "shorthand_property_identifier":
                pairs.append((node_text(child), self.lookup(node_text(child))))
            elif child.type == "method_definition":
                name = node_text(child.child_by_field_name("name"))
                key = f"<method {name}@{line_of(child)}>"
                self.function(child, key)
                pairs.append((name, ("fn", key)))
            else:
                self.value(child)
        nest_scan.provider(self, pairs)
        return ("obj", tuple(pairs))

    def args(self, node: Node | None) -> tuple[Value, ...]:
        if node is None:
            return ()
        if node.type == "template_string":  # tagged template: gql`...`
            return (self.value(node),)
        return tuple(self.value(c) for c in node.named_children if c.type != "comment")

    def _assign(self, node: Node) -> None:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            return
        target = node_text(left)
        if target in ("module.exports", "exports"):
            value = self.value(right, "default")
            if (
                value != UNKNOWN or "default" not in self.facts.exports
            ):  # exports = module.exports = x
                self.facts.exports["default"] = value
            if value[0] == "obj":
                for key, item in value[1]:
                    self.facts.exports.setdefault(key, item)
            return
        for prefix in ("module.exports.", "exports."):
            if target.startswith(prefix) and "." not in target[len(prefix) :]:
                name = target[len(prefix) :]
                self.facts.exports[name] = self.value(right, name)
                return
        this = node_text(left.child_by_field_name("object")) == "this"
        if left.type == "member_expression" and this and self.classes:
            key = f"{self.classes[-1]}.{node_text(left.child_by_field_name('property'))}"
            self.facts.bindings[key] = self.value(right, key)
            return
        if left.type == "identifier":
            ref = self.lookup(target)
            value = self.value(right, ref[1])
            if ref[1] not in self.facts.bindings or self.facts.bindings[ref[1]] == UNKNOWN:
                self.facts.bindings[ref[1]] = value
            apollo.maybe_sdl(self, target, right)
            return
        self.value(left)
        self.value(right)

    # ---- calls: the framework modules say what they declare ----------------------------

    def _call(self, node: Node) -> Value:
        callee_node = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        arg_nodes = args_node.named_children if args_node is not None else []
        if callee_node is not None and callee_node.type in ("identifier", "import"):
            name = node_text(callee_node)
            if name in ("require", "import") and arg_nodes and arg_nodes[0].type == "string":
                return ("import", string_of(arg_nodes[0]), "default")
        callee = self.value(callee_node)
        socket_server = None
        if callee[0] == "member" and callee[2] == "on" and args_node is not None:
            socket_server = sockets.handler(self, callee, args_node)
        args = self.args(args_node)
        if socket_server is not None:
            self.socket_params.pop(socket_server, None)
        call: Value = ("call", callee, args, node.start_byte)
        self.on_call("call", callee, args, node)
        line, order = line_of(node), node.start_byte
        self._user_call(callee)
        if callee[0] == "member":
            for recognise in (nest_scan.member_call, fastify.member_call, express.member_call):
                if recognise(self, callee, args, line, order):
                    break
        elif callee[0] == "ref" and node_text(callee_node) in ("gql", "graphql"):
            apollo.sdl_arg(self, args, line)
        iterates = callee[0] == "member" and callee[2] in _ITERATORS and args[:1] != ()
        if any(a[0] in _CARRIERS for a in args) or (iterates and args[0][0] == "fn"):
            self.facts.calls.append(CallSite(callee, args, line, order))
        return call


def _param_default(param: Node) -> Node | None:
    """``prefix = '/api'``: the default value of a parameter."""
    if param.type == "assignment_pattern":
        return param.child_by_field_name("right")
    return param.child_by_field_name("value")  # TypeScript required/optional parameters


def _superclass(scanner: Scanner, node: Node) -> Value | None:
    """``class A extends AuthGuard('jwt')``: the superclass value."""
    heritage = next((c for c in node.named_children if c.type == "class_heritage"), None)
    if heritage is None:
        return None
    clause = next((c for c in heritage.named_children if c.type == "extends_clause"), heritage)
    target = clause.child_by_field_name("value") or (
        clause.named_children[0] if clause.named_children else None
    )
    return scanner.value(target) if target is not None else None
