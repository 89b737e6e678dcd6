"""Security rules for JavaScript and TypeScript: Express, Fastify, Koa, NestJS and friends."""

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

_REQUEST = r"(req|request|ctx|ctx\.request|event)"
_SOURCE = re.compile(
    _REQUEST + r"\.(body|query|params|headers|cookies|queryStringParameters|pathParameters)\b"
    r"|req\.(get|header)\(|ctx\.get\("  # Express and Koa header reads
)
_HEADER_SETTERS = frozenset({"setHeader", "header", "set", "append"})
_ERRORHANDLER = re.compile(r"require\(\s*['\"]errorhandler['\"]\s*\)")
_ENV_TEST = re.compile(r"(?i)env|development|debug")  # if (app.get('env') === 'development')
_NODE_ENV = re.compile(r"process\.env(\.NODE_ENV|\[['\"]NODE_ENV['\"]\])")
_SERVER = re.compile(
    r"\b(express|fastify|Fastify)\(|new (Koa|ApolloServer)\(|NestFactory\.create|createServer\("
)
_DEVELOPMENT_FILE = re.compile(r"(?i)(^|[._-])(dev|development|local|test)([._-]|$)")
_WHOLE_BODY = re.compile(_REQUEST + r"\.(body|query|params)")
_SOURCE_DECORATOR = re.compile(r"@(Body|Query|Param|Headers)\b")
_SANITIZERS = frozenset({"parseInt", "parseFloat", "Number", "Boolean", "encodeURIComponent"})
_SCALAR_CASTS = _SANITIZERS | {"String", "ObjectId", "sanitize"}
_SQL_SINKS = frozenset(
    {
        "query", "execute", "raw", "whereRaw", "orWhereRaw", "havingRaw", "$queryRawUnsafe",
        "$executeRawUnsafe", "exec", "run", "all", "prepare", "unsafe",
    }
)  # fmt: skip
# Sinks whose first argument is always SQL text (``exec``, ``run``, ``all`` also name other APIs).
_SQL_TEXT_SINKS = frozenset(
    {"query", "execute", "raw", "whereRaw", "$queryRawUnsafe", "$executeRawUnsafe", "unsafe"}
)
_MONGO_METHODS = frozenset(
    {
        "find", "findOne", "findOneAndUpdate", "findOneAndDelete", "findOneAndReplace",
        "updateOne", "updateMany", "deleteOne", "deleteMany", "countDocuments", "replaceOne",
    }
)  # fmt: skip
_CHILD_PROCESS = frozenset({"child_process", "childProcess", "cp"})
_HTTP_CLIENT = re.compile(r"(fetch|axios|got|needle)|(axios|got|http|https|superagent)\.\w+")
_RESPONSES = frozenset({"res", "response", "ctx", "reply"})
_SCOPES = frozenset(
    {
        "function_declaration", "function_expression", "function", "arrow_function",
        "method_definition", "generator_function_declaration",
    }
)  # fmt: skip
_STRINGS = frozenset({"string", "template_string"})
_LITERALS = frozenset({"number", "true", "false", "null", "undefined"})
_CONTAINERS = frozenset({"binary_expression", "parenthesized_expression", "array"})
_FUNCTIONS = frozenset({"function_expression", "function", "arrow_function"})

SIGNALS = Signals(
    imports={
        "rate-limit": r"(express-rate-limit|rate-limiter-flexible|@nestjs/throttler|"
        r"@fastify/rate-limit|fastify-rate-limit|koa-ratelimit|express-slow-down)$",
        "security-headers": r"(helmet|@fastify/helmet|fastify-helmet|koa-helmet|lusca)$",
        "csrf": r"(csurf|csrf-csrf|csrf-sync|lusca|@fastify/csrf-protection|koa-csrf|tiny-csrf)$",
        "sessions": r"(express-session|cookie-session|@fastify/session|@fastify/secure-session|"
        r"@fastify/cookie|koa-session)$",
    },
    strings={"security-headers": HEADER_NAMES},
)


class JavaScriptRules:
    """The JavaScript/TypeScript grammar's view of calls and strings, and the rules over them."""

    scope_types = _SCOPES
    interesting = frozenset(
        {
            "call_expression", "new_expression", "variable_declarator", "assignment_expression",
            "pair", "object", "string", "template_string", "binary_expression",
            "import_statement", "required_parameter",
        }
    )  # fmt: skip

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        kind = node.type
        if kind == "required_parameter":
            pattern = node.child_by_field_name("pattern")
            if pattern is not None and pattern.type == "identifier":
                yield [text(pattern)], node
            return
        if kind not in ("variable_declarator", "assignment_expression"):
            return
        name_field, value_field = (
            ("name", "value") if kind == "variable_declarator" else ("left", "right")
        )
        target, value = node.child_by_field_name(name_field), node.child_by_field_name(value_field)
        if target is None or value is None:
            return
        if target.type == "identifier":
            yield [text(target)], value
        elif target.type in ("object_pattern", "array_pattern"):
            names = [
                text(n)
                for n in descendants(target)
                if n.type in ("identifier", "shorthand_property_identifier_pattern")
            ]
            yield names, value

    def is_tainted(self, node: Node, env: Env) -> bool:
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind == "identifier" and text(current) in env.tainted:
                return True
            if kind in ("member_expression", "subscript_expression") and _SOURCE.match(
                text(current)
            ):
                return True
            if kind == "decorator" and _SOURCE_DECORATOR.match(text(current)):
                return True
            if kind in _FUNCTIONS or (kind == "call_expression" and _name(current) in _SANITIZERS):
                continue  # a function is not data; a conversion ends the taint
            if kind == "member_expression":
                stack.extend(_fields(current, "object"))
            elif kind == "pair":
                stack.extend(_fields(current, "value"))
            elif kind in _STRINGS:
                stack.extend(c for c in current.children if c.type == "template_substitution")
            else:
                stack.extend(current.children)
        return False

    def is_built(self, node: Node, env: Env) -> bool:
        kind = node.type
        if kind == "identifier":
            return text(node) in env.built
        if kind == "parenthesized_expression":
            return any(self.is_built(c, env) for c in node.named_children)
        if kind == "template_string":
            return any(c.type == "template_substitution" for c in node.children)
        if kind == "binary_expression" and text(node.child_by_field_name("operator")) == "+":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None:
                return False
            parts = operands(node, "+")
            return any(self._stringy(p, env) for p in parts) and not all(map(_literal, parts))
        return False

    def check(self, node: Node, env: Env, ctx: FileContext) -> None:
        kind = node.type
        if kind in ("call_expression", "pair", "assignment_expression"):
            cors = hand_set_cors(node, env, self, _header_settings, _string_value)
            if cors is not None:
                ctx.emit("cors", node, cors)
        if kind in ("call_expression", "new_expression"):
            self._check_call(node, env, ctx)
        elif kind == "variable_declarator":
            _check_secret(
                text(node.child_by_field_name("name")), node.child_by_field_name("value"), ctx
            )
        elif kind == "assignment_expression":
            target = text(node.child_by_field_name("left"))
            right = node.child_by_field_name("right")
            _check_secret(target.rsplit(".", 1)[-1], right, ctx)
            development = right is not None and _string_value(right) == "development"
            if development and _NODE_ENV.fullmatch(target) and _server_code(node, ctx):
                ctx.emit("debug-mode", node, "NODE_ENV is forced to 'development' in code")
        elif kind == "pair":
            self._check_pair(node, ctx)
        elif kind == "object":
            _check_cors_options(node, ctx)
        elif kind in _STRINGS:
            value = _string_value(node)
            if value is not None:
                SIGNALS.see_string(value, ctx)
                if token_format(value):
                    message = "a string literal has the format of a real credential"
                    ctx.emit("hardcoded-secret.token-format", node, message)
        elif kind == "binary_expression":
            _check_env_fallback(node, ctx)
        elif kind == "import_statement":
            source = node.child_by_field_name("source")
            SIGNALS.see_import(_string_value(source) or "" if source else "", ctx)

    def _stringy(self, node: Node, env: Env) -> bool:
        return node.type in _STRINGS or self.is_built(node, env)

    def _check_call(self, node: Node, env: Env, ctx: FileContext) -> None:
        callee = text(
            node.child_by_field_name("function") or node.child_by_field_name("constructor")
        )
        name, receiver = _name(node), callee.rsplit(".", 1)[0] if "." in callee else ""
        args = _arguments(node)
        first = args[0] if args else None
        _record_app(node, callee, ctx)
        if callee == "require" and first is not None:
            SIGNALS.see_import(_string_value(first) or "", ctx)
        sets_cookie = receiver in _RESPONSES and name in ("cookie", "setCookie")
        if sets_cookie or callee == "ctx.cookies.set":
            ctx.signals.add("sessions")
        if first is None:
            return
        _check_debug_mode(node, callee, name, args, ctx)
        if name in _SQL_SINKS and self.is_built(first, env):
            origin = env.built.get(text(first), first) if first.type == "identifier" else first
            if SQL_TEXT.search(text(origin)):
                ctx.emit("sql-injection", node, f"{callee}() runs SQL built from a string")
        elif name in _SQL_TEXT_SINKS and first.type != "object" and self.is_tainted(first, env):
            ctx.emit("sql-injection", node, f"{callee}() runs SQL text taken from the request")
        if name in _MONGO_METHODS:
            self._check_mongo_filter(first, env, ctx, callee)
        if self._shell_command(callee, name, receiver, args) and (
            self.is_built(first, env) or self.is_tainted(first, env)
        ):
            ctx.emit("command-injection", node, f"{callee}() runs a shell command built from data")
        if name == "redirect" and receiver in _RESPONSES and self.is_tainted(args[-1], env):
            ctx.emit("open-redirect", node, f"{callee}() redirects to a URL from the request")
        if _HTTP_CLIENT.fullmatch(callee) and self.is_tainted(_url_argument(first), env):
            ctx.emit("ssrf", node, f"{callee}() fetches a URL taken from the request")
        if receiver in ("jwt", "jsonwebtoken") and name in ("verify", "sign"):
            _check_jwt(node, name, args, ctx)

    def _shell_command(self, callee: str, name: str, receiver: str, args: list[Node]) -> bool:
        if receiver not in _CHILD_PROCESS and callee != name:
            return False
        if name in ("exec", "execSync"):
            return True
        options = args[-1] if len(args) > 1 else None
        return name in ("spawn", "spawnSync", "execFile", "execFileSync") and bool(
            options is not None and _property(options, "shell") == "true"
        )

    def _check_mongo_filter(self, query: Node, env: Env, ctx: FileContext, callee: str) -> None:
        if _WHOLE_BODY.fullmatch(text(query)):
            message = f"{callee}() uses the request {text(query)} as its filter"
            ctx.emit("nosql-injection.operator", query, message)
            return
        if query.type != "object":
            return
        for pair in query.named_children:
            value = pair.child_by_field_name("value") if pair.type == "pair" else None
            key = _key(pair)
            if value is None or key.startswith("$"):  # $where has its own rule
                continue
            if value.type == "call_expression" and _name(value) in _SCALAR_CASTS:
                continue
            if self.is_tainted(value, env):
                message = f"{callee}() filter takes {text(value)} unchecked from the request"
                ctx.emit("nosql-injection.operator", value, message)
        for pair in query.children:
            if pair.type == "shorthand_property_identifier" and text(pair) in env.tainted:
                message = f"{callee}() filter takes {text(pair)} unchecked from the request"
                ctx.emit("nosql-injection.operator", pair, message)

    def _check_pair(self, node: Node, ctx: FileContext) -> None:
        key, value = _key(node), node.child_by_field_name("value")
        if value is None:
            return
        if key == "$where" and not _literal(value) and value.type not in _FUNCTIONS:
            ctx.emit("nosql-injection.where", node, "a $where clause is built from data")
        _check_secret(key, value, ctx)


def _fields(node: Node, name: str) -> list[Node]:
    child = node.child_by_field_name(name)
    return [child] if child is not None else []


def _name(call: Node) -> str:
    function = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    return text(function).rsplit(".", 1)[-1]


def _arguments(call: Node) -> list[Node]:
    arglist = call.child_by_field_name("arguments")
    if arglist is None or arglist.type != "arguments":  # a tagged template is parameterised
        return []
    return [a for a in arglist.named_children if a.type != "comment"]


def _key(pair: Node) -> str:
    key = pair.child_by_field_name("key")
    if key is None:
        return ""
    return _string_value(key) or "" if key.type in _STRINGS else text(key)


def _property(obj: Node, name: str) -> str | None:
    """The source text of ``name``'s value in an object literal, if it is set there."""
    if obj.type != "object":
        return None
    for pair in obj.named_children:
        if pair.type == "pair" and _key(pair) == name:
            return text(pair.child_by_field_name("value"))
    return None


def _string_value(node: Node) -> str | None:
    """The value of a string literal (or a template without substitutions), else None."""
    if node.type not in _STRINGS or any(c.type == "template_substitution" for c in node.children):
        return None
    return "".join(
        text(c) for c in node.children if c.type in ("string_fragment", "escape_sequence")
    )


def _literal(node: Node) -> bool:
    return all_literal(node, _literal_leaf, _CONTAINERS)


def _literal_leaf(node: Node) -> bool:
    return node.type in _LITERALS or _string_value(node) is not None


def _url_argument(first: Node) -> Node:
    """The URL of ``fetch(url)``, ``fetch(new Request(url, options))``, ``axios({url})``."""
    if first.type == "new_expression" and _name(first) in ("Request", "URL"):
        args = _arguments(first)
        return args[0] if args else first
    if first.type == "object":
        for pair in first.named_children:
            value = pair.child_by_field_name("value")
            if pair.type == "pair" and _key(pair) == "url" and value is not None:
                return value
    return first


def _header_settings(node: Node) -> list[tuple[str, Node]]:
    """``res.setHeader(name, v)``, ``res.set/header/append(name, v)``,
    ``headers.set(name, v)``, ``{'Name': v}`` and ``res.headers['Name'] = v``."""
    name: str | None = None
    value: Node | None = None
    if node.type == "call_expression" and _name(node) in _HEADER_SETTERS:
        args = _arguments(node)
        if len(args) == 2:
            name, value = _string_value(args[0]), args[1]
    elif node.type == "pair":
        key = node.child_by_field_name("key")
        if key is not None and key.type == "string":
            name, value = _string_value(key), node.child_by_field_name("value")
    elif node.type == "assignment_expression":
        left = node.child_by_field_name("left")
        index = left.child_by_field_name("index") if left is not None else None
        if index is not None and left is not None and left.type == "subscript_expression":
            name, value = _string_value(index), node.child_by_field_name("right")
    return [(name.lower(), value)] if name and value is not None else []


def _record_app(node: Node, callee: str, ctx: FileContext) -> None:
    if callee == "express":
        ctx.app("express", node)
    elif callee in ("fastify", "Fastify"):
        ctx.app("fastify", node)
    elif callee == "Koa" and node.type == "new_expression":
        ctx.app("koa", node)
    elif callee == "NestFactory.create":
        ctx.app("nestjs", node)


def _check_secret(name: str, value: Node | None, ctx: FileContext) -> None:
    if value is None or not secret_name(name):
        return
    literal = _string_value(value)
    if literal is not None and secret_value(name, literal) and not token_format(literal):
        ctx.emit("hardcoded-secret", value, f"{name} is set to a literal secret")


def _check_env_fallback(node: Node, ctx: FileContext) -> None:
    operator = text(node.child_by_field_name("operator"))
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if operator not in ("||", "??") or left is None or right is None:
        return
    variable = re.fullmatch(r"process\.env(?:\.(\w+)|\[['\"](\w+)['\"]\])", text(left))
    literal = _string_value(right)
    name = variable.group(1) or variable.group(2) if variable else None
    if name and secret_name(name) and literal and literal.strip():
        message = f"{name} falls back to a literal when the environment lacks it"
        ctx.emit("hardcoded-secret.env-fallback", node, message)


def _check_jwt(node: Node, name: str, args: list[Node], ctx: FileContext) -> None:
    key = args[1] if len(args) > 1 else None
    if key is not None and _string_value(key) is not None:
        ctx.emit("jwt-misuse.literal-key", key, f"jwt.{name}() uses a literal key")
    options = args[2] if len(args) > 2 and args[2].type == "object" else None
    if name == "sign":
        algorithm = _property(options, "algorithm") if options is not None else None
        if algorithm is not None and algorithm.strip("'\"`").lower() == "none":
            ctx.emit("jwt-misuse.none-algorithm", node, "jwt.sign() signs with 'none'")
        return
    algorithms = _property(options, "algorithms") if options is not None else None
    if algorithms is None:
        ctx.emit("jwt-misuse.no-algorithms", node, "jwt.verify() without an algorithms list")
    elif re.search(r"['\"`]none['\"`]", algorithms, re.IGNORECASE):
        ctx.emit("jwt-misuse.none-algorithm", node, "jwt.verify() accepts 'none'")
    if options is not None and _property(options, "ignoreExpiration") == "true":
        ctx.emit("jwt-misuse.ignore-expiration", node, "jwt.verify() ignores token expiry")


def _check_debug_mode(
    node: Node, callee: str, name: str, args: list[Node], ctx: FileContext
) -> None:
    """Express's ``errorhandler`` mounted whatever the environment, ``app.set('env',
    'development')``, and Apollo Server told to put stack traces in responses."""
    if _DEVELOPMENT_FILE.search(ctx.path.rsplit("/", 1)[-1]):
        return
    values = [_string_value(a) for a in args]
    if name == "set" and values[:2] == ["env", "development"]:
        ctx.emit("debug-mode", node, f"{callee}('env', 'development') turns on development mode")
    if name == "use" and any(_errorhandler(a) for a in args) and not _env_dependent(node):
        message = f"{callee}(errorhandler()) sends stack traces whatever the environment"
        ctx.emit("debug-mode", node, message)
    if node.type == "new_expression" and name == "ApolloServer" and args[0].type == "object":
        for option in ("debug", "includeStacktraceInErrorResponses"):
            if _property(args[0], option) == "true":
                ctx.emit(
                    "debug-mode", node, f"ApolloServer {option}: true puts stack traces in errors"
                )


def _errorhandler(argument: Node) -> bool:
    """``errorhandler()`` or ``require('errorhandler')()``: the development error page."""
    if argument.type != "call_expression":
        return False
    function = argument.child_by_field_name("function")
    if function is None:
        return False
    if _ERRORHANDLER.fullmatch(text(function)):
        return True
    root = argument
    while root.parent is not None:
        root = root.parent
    return function.type == "identifier" and text(function) in _errorhandler_names(root)


def _errorhandler_names(program: Node) -> set[str]:
    """Top-level names bound to the ``errorhandler`` package (import or require)."""
    names: set[str] = set()
    for statement in program.named_children:
        if statement.type == "import_statement":
            source = statement.child_by_field_name("source")
            if source is not None and _string_value(source) == "errorhandler":
                names.update(text(n) for n in descendants(statement) if n.type == "identifier")
        elif statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                value = declarator.child_by_field_name("value")
                if value is not None and _ERRORHANDLER.fullmatch(text(value)):
                    names.add(text(declarator.child_by_field_name("name")))
    return names


def _env_dependent(node: Node) -> bool:
    """Whether ``node`` runs only in some environments: under ``if (… env …)``, ``env && …``
    or ``env ? … : …``."""
    parent = node.parent
    while parent is not None:
        test = parent.child_by_field_name("condition")
        if parent.type == "binary_expression":
            test = parent.child_by_field_name("left")
        if test is not None and _ENV_TEST.search(text(test)):
            return True
        parent = parent.parent
    return False


def _server_code(node: Node, ctx: FileContext) -> bool:
    """Whether the file starts an HTTP server (a build or dev script may set NODE_ENV)."""
    root = node
    while root.parent is not None:
        root = root.parent
    development = _DEVELOPMENT_FILE.search(ctx.path.rsplit("/", 1)[-1])
    return not development and _SERVER.search(text(root)) is not None


def _check_cors_options(node: Node, ctx: FileContext) -> None:
    origin = _property(node, "origin")
    any_origin = origin is not None and (origin == "true" or origin.strip("'\"`") == "*")
    if any_origin and _property(node, "credentials") == "true":
        ctx.emit("cors", node, "CORS allows any origin together with credentials: true")
