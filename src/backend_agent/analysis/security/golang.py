"""Go's tables for the shared rules: net/http, Gin, Echo, Chi, Fiber, gorilla and the libraries
they call, plus what only Go needs (maps decoded from requests, key functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.base import RuleBase
from backend_agent.analysis.security.call_checks import JwtUse
from backend_agent.analysis.security.engine import Env, FileContext, descendants, root_of
from backend_agent.analysis.security.secrets import secret_name
from backend_agent.analysis.security.syntax import Call, Grammar

GRAMMAR = Grammar(
    scopes=frozenset({"function_declaration", "method_declaration", "func_literal"}),
    identifiers=frozenset({"identifier"}),
    calls=frozenset({"call_expression"}),
    strings=frozenset({"interpreted_string_literal", "raw_string_literal"}),
    string_parts=frozenset(
        {"interpreted_string_literal_content", "raw_string_literal_content", "escape_sequence"}
    ),
    interpolations=frozenset(),
    binaries=frozenset({"binary_expression"}),
    parentheses=frozenset({"parenthesized_expression"}),
    literals=frozenset({"int_literal", "float_literal", "true", "false", "nil"}),
    containers=frozenset({"binary_expression", "parenthesized_expression"}),
    collections=frozenset({"composite_literal", "literal_value"}),
    functions=frozenset({"func_literal"}),
    members={"selector_expression": "operand"},
    conversions=frozenset({"type_conversion_expression"}),
)
_SOURCE = re.compile(
    r"(r|req|request)\.(URL\.Query\(\)|(URL\.Path|URL\.RawQuery|FormValue|PostFormValue|Form|"
    r"PostForm|Header|Body|Cookie|MultipartForm|FormFile)\b)"
    r"|(c|ctx)\.(Query|DefaultQuery|QueryParam|QueryParams|Param|Params|PostForm|"
    r"DefaultPostForm|FormValue|FormFile|GetHeader|Cookie|Body|BodyParser|ShouldBind\w*|Bind\w*)\b"
    r"|(c|ctx)\.Request(\(\))?\.(URL|Form|PostForm|FormValue|PostFormValue|Header|Body|Cookie)\b"
    r"|mux\.Vars\(|chi\.URLParam\("
)
_SANITIZERS = frozenset(
    {"strconv.Atoi", "strconv.ParseInt", "strconv.ParseBool", "url.QueryEscape"}
)
# mongo-go-driver collection methods and where their filter is (after the context).
_MONGO_FILTER_POSITION = {
    "Find": 1, "FindOne": 1, "FindOneAndUpdate": 1, "FindOneAndDelete": 1,
    "FindOneAndReplace": 1, "UpdateOne": 1, "UpdateMany": 1, "DeleteOne": 1, "DeleteMany": 1,
    "CountDocuments": 1, "ReplaceOne": 1, "Distinct": 2,
}  # fmt: skip
# Types that hold any JSON shape, so a request decoded into one can carry {"$ne": ...}.
_LOOSE_TYPE = re.compile(
    r"((bson|primitive)\.[MD]|map\[string\]\s*(interface\{\}|any)|interface\{\}|any)$"
)
_LOOSE_VALUE = re.compile(
    r"(&?(bson|primitive)\.[MD]\{|map\[string\]\s*(interface\{\}|any)\{"
    r"|make\(\s*map\[string\]\s*(interface\{\}|any))"
)
_APPS = {
    "gin.Default": "gin", "gin.New": "gin", "echo.New": "echo", "chi.NewRouter": "chi",
    "fiber.New": "fiber", "mux.NewRouter": "gorilla/mux", "http.NewServeMux": "net/http",
    "httprouter.New": "httprouter",
}  # fmt: skip
_SIGNAL_CALLS = {
    "middleware.RateLimiter": "rate-limit",
    "middleware.Secure": "security-headers",
    "middleware.CSRF": "csrf",
    "middleware.CSRFWithConfig": "csrf",
    "http.SetCookie": "sessions",
    "c.SetCookie": "sessions",
}
# Debug switches and profiling endpoints mounted by a call.
_DEBUG_CALLS = {
    "middleware.Profiler": "chi's middleware.Profiler() serves net/http/pprof endpoints",
    "pprof.Register": "pprof.Register() serves profiling endpoints (gin-contrib, echo-contrib)",
    "pprof.New": "Fiber's pprof middleware serves profiling endpoints",
}


class GoRules(RuleBase):
    """The shared rules over Go's grammar."""

    family = "go"
    grammar = GRAMMAR
    extra_nodes = frozenset(
        {
            "short_var_declaration", "assignment_statement", "var_spec", "const_spec",
            "keyed_element", "composite_literal", "literal_value", "import_spec",
            "selector_expression",
        }
    )  # fmt: skip
    header_nodes = frozenset({"call_expression"})
    header_setters = frozenset({"Set", "Add", "Header"})  # Header().Set, Gin c.Header, Fiber
    sources = _SOURCE
    source_types = frozenset({"selector_expression", "call_expression"})
    sanitizers = _SANITIZERS
    apps = _APPS
    signal_calls = _SIGNAL_CALLS

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        if node.type == "call_expression":  # c.ShouldBindJSON(&body), Decode(&body)
            for arg in self.arguments(node)[0]:
                target = arg.named_children[0] if arg.named_children else None
                if arg.type == "unary_expression" and target is not None:
                    yield [node_text(target)], node
            return
        for names, value in _pairs(node):
            yield [node_text(n) for n in names if n.type == "identifier"], value

    def named_values(self, node: Node) -> Iterable[tuple[str, Node]]:
        if node.type in ("short_var_declaration", "var_spec", "const_spec"):
            yield from ((node_text(n), v) for names, v in _pairs(node) for n in names)
        elif node.type == "assignment_statement":
            for names, value in _pairs(node):
                for name in names:
                    target = node_text(name)
                    if not (_secret_fallback(node, target)):
                        yield target.rsplit(".", 1)[-1], value
        elif node.type == "keyed_element":
            key, element = _keyed(node)
            if key is not None and element is not None:
                yield node_text(key), element

    def imports(self, node: Node) -> list[str]:
        path = GRAMMAR.string_value(node.child_by_field_name("path"))
        return [path] if node.type == "import_spec" and path else []

    def jwt(self, call: Call) -> JwtUse | None:
        if call.name == "SignedString" and call.args:
            return JwtUse(call.node, call.callee, True, call.args[0])
        if not call.callee.startswith("jwt."):
            return None
        if call.name == "ParseUnverified":
            return JwtUse(call.node, call.callee, False, verify_off=True)
        if call.name == "WithoutClaimsValidation":
            return JwtUse(call.node, call.callee, False, ignore_expiration=True)
        if call.name not in ("Parse", "ParseWithClaims"):
            return None
        options = " ".join(node_text(a) for a in call.args)
        pinned = "WithValidMethods" in options or ".Method" in options
        return JwtUse(call.node, call.callee, False, _returned_literal(call), pinned=pinned)

    def check_mongo(self, call: Call, env: Env, ctx: FileContext) -> None:
        """A filter decoded from the request into a map (not a struct) can carry operators."""
        position = _MONGO_FILTER_POSITION[call.name]
        if len(call.args) <= position or call.args[0].type == "unary_expression":
            return
        query = call.args[position]
        loose = _loose_names(query)
        if query.type == "identifier" and node_text(query) in loose and self.is_tainted(query, env):
            message = f"{call.callee}() uses a map decoded from the request as its whole filter"
            ctx.emit_if("mongodb", "nosql-injection.operator", query, message)
            return
        body = query.child_by_field_name("body") if query.type == "composite_literal" else None
        for element in body.named_children if body is not None else []:
            _key, value = _keyed(element) if element.type == "keyed_element" else (None, None)
            if value is not None and value.type == "index_expression":
                value = value.child_by_field_name("operand")
            if value is not None and node_text(value) in loose and self.is_tainted(value, env):
                message = (
                    f"{call.callee}() filter takes {node_text(value)} unchecked from the request"
                )
                ctx.emit_if("mongodb", "nosql-injection.operator", element, message)

    def check_language(self, node: Node, env: Env, ctx: FileContext) -> None:
        kind = node.type
        if kind == "assignment_statement":
            _check_assignment(node, ctx)
        elif kind == "composite_literal":
            _check_cors_config(node, ctx)
        elif kind == "literal_value":
            where = _where_value(node)
            if where is not None and not _constant(where):
                message = "a $where clause is built from data"
                ctx.emit_if("mongodb", "nosql-injection.where", where, message)
        elif kind == "selector_expression":
            if node_text(node) in ("jwt.SigningMethodNone", "jwt.UnsafeAllowNoneSignatureType"):
                ctx.emit(
                    "jwt-misuse.none-algorithm", node, f"{node_text(node)} allows unsigned tokens"
                )
        elif kind == "import_spec" and self.imports(node) == ["net/http/pprof"]:
            message = "net/http/pprof is imported: profiling endpoints on the default mux"
            ctx.emit("debug-mode", node, message)

    def check_language_call(self, call: Call, env: Env, ctx: FileContext) -> None:
        mode = node_text(call.args[0]) if call.args else ""
        debug = call.callee == "gin.SetMode" and mode in ("gin.DebugMode", '"debug"')
        if debug and _package(call.node) == "main":
            ctx.emit("debug-mode", call.node, "gin.SetMode(gin.DebugMode) in package main")
        if call.callee in _DEBUG_CALLS:
            ctx.emit("debug-mode", call.node, _DEBUG_CALLS[call.callee])


def _pairs(node: Node) -> Iterable[tuple[list[Node], Node]]:
    """(names, value) for declarations and assignments, pairing left and right positionally."""
    if node.type in ("var_spec", "const_spec"):
        names = node.children_by_field_name("name")
        value_list = node.child_by_field_name("value")
        values = value_list.named_children if value_list is not None else []
    elif node.type in ("short_var_declaration", "assignment_statement"):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        names = left.named_children if left is not None else []
        values = right.named_children if right is not None else []
    else:
        return
    if len(values) == len(names):
        yield from (([n], v) for n, v in zip(names, values, strict=True))
    elif len(values) == 1:  # a, err := f(x)
        yield list(names), values[0]


def _keyed(node: Node) -> tuple[Node | None, Node | None]:
    elements = [c for c in node.named_children if c.type != "comment"]
    if len(elements) != 2:
        return None, None
    key, value = (e.named_children[0] if e.named_children else e for e in elements)
    return key, value


def _returned_literal(call: Call) -> Node | None:
    """The literal a JWT key function returns (``return []byte("k"), nil``), if any."""
    key_function = call.args[-1] if call.args else None
    for found in descendants(key_function) if key_function is not None else []:
        if found.type != "return_statement":
            continue
        for value in (v for expr in found.named_children for v in expr.named_children):
            if GRAMMAR.string_value(value) is not None:
                return value
    return None


def _check_assignment(node: Node, ctx: FileContext) -> None:
    for names, value in _pairs(node):
        for name in names:
            target = node_text(name)
            if target.endswith(".Debug") and value.type == "true":
                ctx.emit("debug-mode", node, f"{target} = true turns debug mode on")
            literal = GRAMMAR.string_value(value)
            if _secret_fallback(node, target) and literal and literal.strip():
                message = f"{target} falls back to a literal when it is not configured"
                ctx.emit("hardcoded-secret.env-fallback", node, message)


def _secret_fallback(node: Node, name: str) -> bool:
    """Whether ``node`` assigns a secret-named variable inside ``if name == "" { ... }``."""
    if not secret_name(name):
        return False
    parent = node.parent
    while parent is not None and parent.type not in ("if_statement", "function_declaration"):
        parent = parent.parent
    if parent is None or parent.type != "if_statement":
        return False
    condition = node_text(parent.child_by_field_name("condition")).replace(" ", "")
    return condition == f'{name}==""'


def _check_cors_config(node: Node, ctx: FileContext) -> None:
    kind = node_text(node.child_by_field_name("type"))
    if not kind.endswith(("cors.Config", "cors.Options", "CORSConfig")):
        return
    body = node.child_by_field_name("body")
    fields = {}
    for element in body.named_children if body is not None else []:
        key, value = _keyed(element) if element.type == "keyed_element" else (None, None)
        if key is not None and value is not None:
            fields[node_text(key)] = value
    origins = [fields[k] for k in ("AllowOrigins", "AllowedOrigins") if k in fields]
    any_origin = node_text(fields.get("AllowAllOrigins")) == "true" or any(
        GRAMMAR.string_value(s) == "*" for o in origins for s in descendants(o)
    )
    if any_origin and node_text(fields.get("AllowCredentials")) == "true":
        ctx.emit("cors", node, f"{kind} allows any origin together with AllowCredentials")


def _where_value(literal: Node) -> Node | None:
    """The value of ``"$where"`` in ``bson.M{"$where": v}``, ``{"$where", v}`` or
    ``{Key: "$where", Value: v}``."""
    elements = [c for c in literal.named_children if c.type != "comment"]
    pairs = [_keyed(e) for e in elements if e.type == "keyed_element"]
    if len(pairs) < len(elements):  # bson.E written positionally
        values = [e.named_children[0] if e.named_children else e for e in elements]
        pairs = [(values[0], values[1])] if len(values) == 2 else []
    fields = {node_text(k): v for k, v in pairs if k is not None}
    if "Key" in fields and GRAMMAR.string_value(fields["Key"]) == "$where":
        return fields.get("Value")
    where = (v for k, v in pairs if k is not None and GRAMMAR.string_value(k) == "$where")
    return next(where, None)


def _constant(value: Node) -> bool:
    """A literal, or a name declared ``const`` in the file."""
    if GRAMMAR.literal(value):
        return True
    if value.type != "identifier":
        return False
    constants = {
        node_text(n) for d in descendants(root_of(value)) if d.type == "const_spec"
        for n in d.children_by_field_name("name")
    }  # fmt: skip
    return node_text(value) in constants


def _loose_names(node: Node) -> set[str]:
    """Variables of the enclosing function declared as maps of any JSON value and filled by
    decoding (``Decode(&m)``, ``ShouldBindJSON(&m)``, ``Unmarshal(b, &m)``)."""
    function = node
    while function.parent is not None and function.type not in (
        "function_declaration",
        "method_declaration",
    ):
        function = function.parent
    names: set[str] = set()
    decoded: set[str] = set()
    for found in descendants(function):
        if found.type == "call_expression":
            arglist = found.child_by_field_name("arguments")
            decoded.update(
                node_text(a.named_children[0])
                for a in (arglist.named_children if arglist is not None else [])
                if a.type == "unary_expression"
                and node_text(a).startswith("&")
                and a.named_children
            )
        elif found.type == "var_spec":
            kind = re.sub(r"\s", "", node_text(found.child_by_field_name("type")))
            if _LOOSE_TYPE.match(kind):
                names.update(node_text(n) for n in found.children_by_field_name("name"))
        elif found.type == "short_var_declaration":
            for targets, value in _pairs(found):
                if _LOOSE_VALUE.match(node_text(value)):
                    names.update(node_text(n) for n in targets)
    return names & decoded


def _package(node: Node) -> str:
    for child in root_of(node).named_children:
        if child.type == "package_clause":
            return node_text(child.named_children[0]) if child.named_children else ""
    return ""
