"""Security rules for Go: net/http, Gin, Echo, Chi, Fiber and the libraries they call."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tree_sitter import Node

from backend_agent.analysis.security.engine import (
    SQL_TEXT,
    Env,
    FileContext,
    all_literal,
    descendants,
    hand_set_cors,
    operands,
    secret_name,
    secret_value,
    text,
    token_format,
)
from backend_agent.analysis.security.signals import HEADER_NAMES, Signals

_SOURCE = re.compile(
    r"(r|req|request)\.(URL\.Query\(\)|URL\.Path|URL\.RawQuery|FormValue|PostFormValue|Form|"
    r"PostForm|Header|Body|Cookie)\b"
    r"|(c|ctx)\.(Query|DefaultQuery|QueryParam|QueryParams|Param|Params|PostForm|"
    r"DefaultPostForm|FormValue|GetHeader|Cookie|Body|BodyParser|ShouldBind\w*|Bind\w*)\b"
    r"|(c|ctx)\.Request(\(\))?\.(URL|Form|PostForm|FormValue|PostFormValue|Header|Body|Cookie)\b"
    r"|mux\.Vars\(|chi\.URLParam\("
)
_SANITIZERS = frozenset(
    {"strconv.Atoi", "strconv.ParseInt", "strconv.ParseBool", "url.QueryEscape"}
)
_SQL_SINKS = frozenset(
    {
        "Exec", "Query", "QueryRow", "Prepare", "Raw", "Select", "Get", "MustExec", "Queryx",
        "QueryRowx",
    }
)  # fmt: skip
_SQL_TEXT_SINKS = frozenset(
    {"Exec", "Query", "QueryRow", "Raw", "ExecContext", "QueryContext", "QueryRowContext"}
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
_GORM_CLAUSES = frozenset({"Where", "Or", "Not", "Order", "Group", "Having", "Joins"})
_SHELLS = frozenset({"sh", "bash", "zsh", "/bin/sh", "/bin/bash", "/usr/bin/env"})
_HTTP_URL_POSITION = {
    "http.Get": 0, "http.Post": 0, "http.Head": 0, "http.PostForm": 0,
    "http.NewRequest": 1, "http.NewRequestWithContext": 2,
}  # fmt: skip
_ENV_HELPER = re.compile(r"(?i)(get)?env(or|default|ordefault|withdefault)?|getenv\w*")
_STRINGS = frozenset({"interpreted_string_literal", "raw_string_literal"})
_CONTAINERS = frozenset({"binary_expression", "parenthesized_expression"})
_APPS = {
    "gin.Default": "gin", "gin.New": "gin", "echo.New": "echo", "chi.NewRouter": "chi",
    "fiber.New": "fiber", "mux.NewRouter": "gorilla/mux", "http.NewServeMux": "net/http",
}  # fmt: skip

SIGNALS = Signals(
    imports={
        "rate-limit": r"(golang\.org/x/time/rate|github\.com/(ulule/limiter|didip/tollbooth|"
        r"go-chi/httprate|sethvargo/go-limiter)|github\.com/gofiber/fiber/v\d/middleware/limiter)",
        "security-headers": r"github\.com/(unrolled/secure|gin-contrib/secure|"
        r"gofiber/fiber/v\d/middleware/helmet)",
        "csrf": r"github\.com/(gorilla/csrf|justinas/nosurf|utrack/gin-csrf|"
        r"gofiber/fiber/v\d/middleware/csrf)",
        "sessions": r"github\.com/(gorilla/sessions|gin-contrib/sessions|alexedwards/scs|"
        r"gofiber/fiber/v\d/middleware/session)",
    },
    strings={"security-headers": HEADER_NAMES},
)
_SIGNAL_CALLS = {
    "middleware.RateLimiter": "rate-limit",
    "middleware.Secure": "security-headers",
    "middleware.CSRF": "csrf",
    "middleware.CSRFWithConfig": "csrf",
    "http.SetCookie": "sessions",
    "c.SetCookie": "sessions",
}


class GoRules:
    """The Go grammar's view of calls and strings, and the rules over them."""

    scope_types = frozenset({"function_declaration", "method_declaration", "func_literal"})
    interesting = frozenset(
        {
            "call_expression", "short_var_declaration", "assignment_statement", "var_spec",
            "const_spec", "keyed_element", "composite_literal", "literal_value", "import_spec",
            "interpreted_string_literal", "raw_string_literal", "selector_expression",
        }
    )  # fmt: skip

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        kind = node.type
        if kind == "call_expression":  # c.ShouldBindJSON(&body), Decode(&body)
            for arg in _arguments(node):
                target = arg.named_children[0] if arg.named_children else None
                if arg.type == "unary_expression" and target is not None:
                    yield [text(target)], node
            return
        for names, value in _pairs(node):
            yield [text(n) for n in names if n.type == "identifier"], value

    def is_tainted(self, node: Node, env: Env) -> bool:
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind == "identifier" and text(current) in env.tainted:
                return True
            if kind in ("selector_expression", "call_expression") and _SOURCE.match(text(current)):
                return True
            if kind == "func_literal" or (
                kind == "call_expression" and _callee(current) in _SANITIZERS
            ):
                continue  # a function is not data; a conversion ends the taint
            if kind == "selector_expression":
                stack.extend(_fields(current, "operand"))
            elif kind not in _STRINGS:
                stack.extend(current.children)
        return False

    def is_built(self, node: Node, env: Env) -> bool:
        kind = node.type
        if kind == "identifier":
            return text(node) in env.built
        if kind == "parenthesized_expression":
            return any(self.is_built(c, env) for c in node.named_children)
        if kind == "call_expression" and _callee(node) == "fmt.Sprintf":
            args = _arguments(node)
            return len(args) > 1 and not all(_literal(a) for a in args[1:])
        if kind == "binary_expression" and text(node.child_by_field_name("operator")) == "+":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None:
                return False
            parts = operands(node, "+")
            return any(self._stringy(p, env) for p in parts) and not all(map(_literal, parts))
        return False

    def check(self, node: Node, env: Env, ctx: FileContext) -> None:
        kind = node.type
        if kind == "call_expression":
            self._check_call(node, env, ctx)
            cors = hand_set_cors(node, env, self, _header_settings, _string_value)
            if cors is not None:
                ctx.emit("cors", node, cors)
        elif kind in ("short_var_declaration", "var_spec", "const_spec"):
            for names, value in _pairs(node):
                for name in names:
                    _check_secret(text(name), value, ctx)
        elif kind == "assignment_statement":
            self._check_assignment(node, ctx)
        elif kind == "keyed_element":
            key, element = _keyed(node)
            if key is not None and element is not None:
                _check_secret(text(key), element, ctx)
        elif kind == "composite_literal":
            _check_cors_config(node, ctx)
        elif kind == "literal_value":
            where = _where_value(node)
            if where is not None and not _constant(where):
                ctx.emit("nosql-injection.where", where, "a $where clause is built from data")
        elif kind == "import_spec":
            SIGNALS.see_import(_string_value(node.child_by_field_name("path")) or "", ctx)
        elif kind == "selector_expression":
            if text(node) in ("jwt.SigningMethodNone", "jwt.UnsafeAllowNoneSignatureType"):
                ctx.emit("jwt-misuse.none-algorithm", node, f"{text(node)} allows unsigned tokens")
        else:
            literal = _string_value(node)
            if literal is not None:
                SIGNALS.see_string(literal, ctx)
                if token_format(literal):
                    message = "a string literal has the format of a real credential"
                    ctx.emit("hardcoded-secret.token-format", node, message)

    def _stringy(self, node: Node, env: Env) -> bool:
        return node.type in _STRINGS or self.is_built(node, env)

    def _check_call(self, node: Node, env: Env, ctx: FileContext) -> None:
        callee = _callee(node)
        name = callee.rsplit(".", 1)[-1]
        args = _arguments(node)
        if callee in _APPS:
            ctx.app(_APPS[callee], node)
        if callee in _SIGNAL_CALLS:
            ctx.signals.add(_SIGNAL_CALLS[callee])
        debug = callee == "gin.SetMode" and args and text(args[0]) == "gin.DebugMode"
        if debug and _package(node) == "main":
            ctx.emit("debug-mode", node, "gin.SetMode(gin.DebugMode) in package main")
        query = _sql_argument(name, args)
        if query is not None and self.is_built(query, env):
            origin = env.built.get(text(query), query) if query.type == "identifier" else query
            if name in _GORM_CLAUSES or SQL_TEXT.search(text(origin)):
                ctx.emit("sql-injection", node, f"{callee}() runs SQL built from a string")
        elif query is not None and name in _SQL_TEXT_SINKS and self.is_tainted(query, env):
            ctx.emit("sql-injection", node, f"{callee}() runs SQL text taken from the request")
        position = _MONGO_FILTER_POSITION.get(name)
        if position is not None and len(args) > position and args[0].type != "unary_expression":
            self._check_mongo_filter(args[position], callee, env, ctx)
        if callee in ("exec.Command", "exec.CommandContext"):
            self._check_command(node, callee, args, env, ctx)
        if name == "Redirect" and any(self.is_tainted(a, env) for a in args):
            ctx.emit("open-redirect", node, f"{callee}() redirects to a URL from the request")
        position = _HTTP_URL_POSITION.get(callee)
        if position is not None and len(args) > position and self.is_tainted(args[position], env):
            ctx.emit("ssrf", node, f"{callee}() fetches a URL taken from the request")
        if callee.startswith("jwt.") or name == "SignedString":
            _check_jwt(node, callee, args, ctx)
        if _ENV_HELPER.fullmatch(name) and len(args) == 2:
            variable, fallback = _string_value(args[0]), _string_value(args[1])
            if variable and secret_name(variable) and fallback and fallback.strip():
                message = f"{variable} falls back to a literal when the environment lacks it"
                ctx.emit("hardcoded-secret.env-fallback", node, message)

    def _check_mongo_filter(self, query: Node, callee: str, env: Env, ctx: FileContext) -> None:
        """A filter decoded from the request into a map (not a struct) can carry operators."""
        loose = _loose_names(query)
        if query.type == "identifier" and text(query) in loose and self.is_tainted(query, env):
            message = f"{callee}() uses a map decoded from the request as its whole filter"
            ctx.emit("nosql-injection.operator", query, message)
            return
        body = query.child_by_field_name("body") if query.type == "composite_literal" else None
        for element in body.named_children if body is not None else []:
            _key, value = _keyed(element) if element.type == "keyed_element" else (None, None)
            if value is not None and value.type == "index_expression":
                value = value.child_by_field_name("operand")
            if value is not None and text(value) in loose and self.is_tainted(value, env):
                message = f"{callee}() filter takes {text(value)} unchecked from the request"
                ctx.emit("nosql-injection.operator", element, message)

    def _check_command(
        self, node: Node, callee: str, args: list[Node], env: Env, ctx: FileContext
    ) -> None:
        if callee == "exec.CommandContext":
            args = args[1:]
        if len(args) < 3 or _string_value(args[0]) not in _SHELLS:
            return
        if _string_value(args[1]) == "-c" and (
            self.is_built(args[2], env) or self.is_tainted(args[2], env)
        ):
            ctx.emit("command-injection", node, f"{callee}() runs a shell command built from data")

    def _check_assignment(self, node: Node, ctx: FileContext) -> None:
        for names, value in _pairs(node):
            for name in names:
                target = text(name)
                if target.endswith(".Debug") and value.type == "true":
                    ctx.emit("debug-mode", node, f"{target} = true turns debug mode on")
                if secret_name(target) and _fallback_branch(node, target):
                    literal = _string_value(value)
                    if literal and literal.strip():
                        message = f"{target} falls back to a literal when it is not configured"
                        ctx.emit("hardcoded-secret.env-fallback", node, message)
                else:
                    _check_secret(target.rsplit(".", 1)[-1], value, ctx)


def _fields(node: Node, name: str) -> list[Node]:
    child = node.child_by_field_name(name)
    return [child] if child is not None else []


def _callee(call: Node) -> str:
    return text(call.child_by_field_name("function"))


def _arguments(call: Node) -> list[Node]:
    arglist = call.child_by_field_name("arguments")
    return [a for a in arglist.named_children if a.type != "comment"] if arglist else []


def _pairs(node: Node) -> Iterable[tuple[list[Node], Node]]:
    """(names, value) for declarations and assignments, pairing left and right positionally."""
    if node.type in ("var_spec", "const_spec"):
        names = node.children_by_field_name("name")
        value_list = node.child_by_field_name("value")
        values = value_list.named_children if value_list is not None else []
    else:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        names = left.named_children if left is not None else []
        values = right.named_children if right is not None else []
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


def _string_value(node: Node | None) -> str | None:
    if node is None or node.type not in _STRINGS:
        return None
    return text(node)[1:-1]


def _literal(node: Node) -> bool:
    return all_literal(node, _literal_leaf, _CONTAINERS)


def _literal_leaf(node: Node) -> bool:
    return node.type in _STRINGS or node.type in (
        "int_literal",
        "float_literal",
        "true",
        "false",
        "nil",
    )


def _unwrap(value: Node) -> Node:
    """``[]byte("x")`` is as literal as ``"x"``."""
    if value.type == "type_conversion_expression" and value.named_children:
        return value.named_children[-1]
    return value


def _check_secret(name: str, value: Node | None, ctx: FileContext) -> None:
    if value is None or not secret_name(name):
        return
    literal = _string_value(_unwrap(value))
    if literal is not None and secret_value(name, literal) and not token_format(literal):
        ctx.emit("hardcoded-secret", value, f"{name} is set to a literal secret")


def _sql_argument(name: str, args: list[Node]) -> Node | None:
    """The SQL text argument: after a context, and after the destination for sqlx Get/Select."""
    base = name.removesuffix("Context")
    if base not in _SQL_SINKS and name not in _GORM_CLAUSES:
        return None
    position = (base != name) + (base in ("Get", "Select"))
    return args[position] if len(args) > position else None


def _check_jwt(node: Node, callee: str, args: list[Node], ctx: FileContext) -> None:
    name = callee.rsplit(".", 1)[-1]
    if name == "SignedString" and args and _string_value(_unwrap(args[0])) is not None:
        ctx.emit("jwt-misuse.literal-key", node, "SignedString() signs with a literal key")
    if name == "ParseUnverified":
        ctx.emit("jwt-misuse.verify-disabled", node, f"{callee}() skips signature verification")
    if name == "WithoutClaimsValidation":
        ctx.emit("jwt-misuse.ignore-expiration", node, f"{callee}() turns off expiry checks")
    if name not in ("Parse", "ParseWithClaims"):
        return
    key_function = args[-1] if args else None
    options = " ".join(text(a) for a in args)
    checks_method = "WithValidMethods" in options or ".Method" in options
    if not checks_method:
        ctx.emit("jwt-misuse.no-algorithms", node, f"{callee}() accepts any signing method")
    for found in descendants(key_function) if key_function is not None else []:
        if found.type == "return_statement" and any(
            _string_value(_unwrap(v)) is not None
            for expr in found.named_children
            for v in expr.named_children
        ):
            ctx.emit("jwt-misuse.literal-key", found, f"{callee}() verifies with a literal key")


def _check_cors_config(node: Node, ctx: FileContext) -> None:
    kind = text(node.child_by_field_name("type"))
    if not kind.endswith(("cors.Config", "cors.Options", "CORSConfig")):
        return
    body = node.child_by_field_name("body")
    fields = {}
    for element in body.named_children if body is not None else []:
        key, value = _keyed(element) if element.type == "keyed_element" else (None, None)
        if key is not None and value is not None:
            fields[text(key)] = value
    origins = [fields[k] for k in ("AllowOrigins", "AllowedOrigins") if k in fields]
    any_origin = text(fields.get("AllowAllOrigins")) == "true" or any(
        _string_value(s) == "*" for o in origins for s in descendants(o)
    )
    if any_origin and text(fields.get("AllowCredentials")) == "true":
        ctx.emit("cors", node, f"{kind} allows any origin together with AllowCredentials")


def _header_settings(node: Node) -> list[tuple[str, Node]]:
    """``w.Header().Set/Add("Name", v)``, Gin ``c.Header("Name", v)``, Fiber ``c.Set(…)``."""
    setter = _callee(node).rsplit(".", 1)[-1]
    if node.type != "call_expression" or setter not in ("Set", "Add", "Header"):
        return []
    args = _arguments(node)
    name = _string_value(args[0]) if len(args) == 2 else None
    return [(name.lower(), args[1])] if name else []


def _where_value(literal: Node) -> Node | None:
    """The value of ``"$where"`` in ``bson.M{"$where": v}``, ``{"$where", v}`` or
    ``{Key: "$where", Value: v}``."""
    elements = [c for c in literal.named_children if c.type != "comment"]
    pairs = [_keyed(e) for e in elements if e.type == "keyed_element"]
    if len(pairs) < len(elements):  # bson.E written positionally
        values = [e.named_children[0] if e.named_children else e for e in elements]
        pairs = [(values[0], values[1])] if len(values) == 2 else []
    fields = {text(k): v for k, v in pairs if k is not None}
    if "Key" in fields and _string_value(fields["Key"]) == "$where":
        return fields.get("Value")
    return next((v for k, v in pairs if k is not None and _string_value(k) == "$where"), None)


def _constant(value: Node) -> bool:
    """A literal, or a name declared ``const`` in the file."""
    if _literal(value):
        return True
    if value.type != "identifier":
        return False
    root = value
    while root.parent is not None:
        root = root.parent
    constants = {
        text(n) for d in descendants(root) if d.type == "const_spec"
        for n in d.children_by_field_name("name")
    }  # fmt: skip
    return text(value) in constants


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
            decoded.update(
                text(a.named_children[0])
                for a in _arguments(found)
                if a.type == "unary_expression" and text(a).startswith("&") and a.named_children
            )
        elif found.type == "var_spec":
            kind = re.sub(r"\s", "", text(found.child_by_field_name("type")))
            if _LOOSE_TYPE.match(kind):
                names.update(text(n) for n in found.children_by_field_name("name"))
        elif found.type == "short_var_declaration":
            for targets, value in _pairs(found):
                if _LOOSE_VALUE.match(text(value)):
                    names.update(text(n) for n in targets)
    return names & decoded


def _package(node: Node) -> str:
    root = node
    while root.parent is not None:
        root = root.parent
    for child in root.named_children:
        if child.type == "package_clause":
            return text(child.named_children[0]) if child.named_children else ""
    return ""


def _fallback_branch(node: Node, name: str) -> bool:
    """Whether ``node`` is inside ``if name == "" { ... }``."""
    parent = node.parent
    while parent is not None and parent.type not in ("if_statement", "function_declaration"):
        parent = parent.parent
    if parent is None or parent.type != "if_statement":
        return False
    condition = text(parent.child_by_field_name("condition")).replace(" ", "")
    return condition == f'{name}==""'
