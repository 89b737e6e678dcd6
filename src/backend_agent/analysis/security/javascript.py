"""JavaScript and TypeScript tables for the shared rules: Express, Fastify, Koa, NestJS, Next,
Nuxt, h3/Nitro, Apollo, Yoga and the libraries they call."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.base import RuleBase
from backend_agent.analysis.security.call_checks import JwtUse
from backend_agent.analysis.security.engine import (
    ENV_TEST,
    Env,
    FileContext,
    descendants,
    guarded,
    root_of,
)
from backend_agent.analysis.security.syntax import Call, Grammar

_SCOPES = frozenset(
    {
        "function_declaration", "function_expression", "function", "arrow_function",
        "method_definition", "generator_function_declaration",
    }
)  # fmt: skip
GRAMMAR = Grammar(
    scopes=_SCOPES,
    identifiers=frozenset({"identifier", "shorthand_property_identifier"}),
    patterns=frozenset({"shorthand_property_identifier_pattern"}),
    calls=frozenset({"call_expression", "new_expression"}),
    strings=frozenset({"string", "template_string"}),
    string_parts=frozenset({"string_fragment", "escape_sequence"}),
    interpolations=frozenset({"template_substitution"}),
    binaries=frozenset({"binary_expression"}),
    parentheses=frozenset({"parenthesized_expression"}),
    literals=frozenset({"number", "true", "false", "null", "undefined"}),
    containers=frozenset({"binary_expression", "parenthesized_expression", "array"}),
    collections=frozenset({"object", "array"}),
    functions=frozenset({"function_expression", "function", "arrow_function"}),
    members={"member_expression": "object"},
    pairs={"pair": "value"},
    conditionals=frozenset({"ternary_expression"}),
)
_REQUEST = r"(req|request|ctx|ctx\.request|event)"
_SOURCE = re.compile(
    _REQUEST + r"\.(body|query|params|headers|cookies|queryStringParameters|pathParameters|"
    r"files?|rawBody)\b|req\.(get|header|param)\(|ctx\.get\("  # Express and Koa header reads
)
_PATH_PARAMETER = re.compile(r"(req|request|ctx)\.params\.\w+$")
_WHOLE_BODY = re.compile(_REQUEST + r"\.(body|query|params)")
_SOURCE_DECORATOR = re.compile(r"@(Body|Query|Param|Headers)\b")
# Conversions, and verified JWT claims (an unverified token is jwt-misuse's finding).
_SANITIZERS = frozenset(
    {"parseInt", "parseFloat", "Number", "Boolean", "encodeURIComponent", "jwt.verify"}
)
_RESPONSES = frozenset({"res", "response", "ctx", "reply"})
_ERRORHANDLER = re.compile(r"require\(\s*['\"]errorhandler['\"]\s*\)")
_NODE_ENV = re.compile(r"process\.env(\.NODE_ENV|\[['\"]NODE_ENV['\"]\])")
_SERVER = re.compile(
    r"\b(express|fastify|Fastify)\(|new (Koa|ApolloServer)\(|NestFactory\.create|createServer\("
)
_DEVELOPMENT_FILE = re.compile(r"(?i)(^|[._-])(dev|development|local|test)([._-]|$)")
# Options that put a framework in development or debug mode: callee, option, value.
_DEBUG_OPTIONS = (
    (re.compile(r"next"), "dev", "true", "Next.js"),
    (re.compile(r"(nuxt|loadNuxt|Nuxt|defineNuxtConfig)"), "dev", "true", "Nuxt"),
    (re.compile(r"defineNuxtConfig"), "debug", "true", "Nuxt"),
    (re.compile(r"(h3\.)?createApp"), "debug", "true", "h3"),
    (re.compile(r"defineNitroConfig"), "debug", "true", "Nitro"),
    (re.compile(r"createYoga"), "maskedErrors", "false", "GraphQL Yoga"),
    (re.compile(r"GraphQLModule\.forRoot(Async)?"), "debug", "true", "NestJS GraphQL"),
    (re.compile(r"ApolloServer"), "debug", "true", "Apollo Server"),
    (re.compile(r"ApolloServer"), "includeStacktraceInErrorResponses", "true", "Apollo Server"),
    (re.compile(r"Koa"), "env", "development", "Koa"),
)
_ASSIGNMENTS = {
    "variable_declarator": ("name", "value"),
    "assignment_expression": ("left", "right"),
}
_APPS = {
    "express": "express", "fastify": "fastify", "Fastify": "fastify", "Koa": "koa",
    "NestFactory.create": "nestjs", "Hapi.server": "hapi", "Hapi.Server": "hapi",
}  # fmt: skip


class JavaScriptRules(RuleBase):
    """The shared rules over the JavaScript and TypeScript grammars."""

    family = "javascript"
    grammar = GRAMMAR
    extra_nodes = frozenset({"object", "import_statement", "required_parameter"})
    assignments = _ASSIGNMENTS
    opaque_targets = frozenset({"member_expression", "subscript_expression"})
    header_nodes = frozenset({"call_expression", "pair", "assignment_expression"})
    header_setters = frozenset({"setHeader", "header", "set", "append"})
    sources = _SOURCE
    source_types = frozenset({"member_expression", "subscript_expression", "call_expression"})
    sanitizers = _SANITIZERS
    scalar_casts = _SANITIZERS | {"String", "ObjectId", "sanitize"}
    apps = _APPS

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        pattern = node.child_by_field_name("pattern")
        if node.type == "required_parameter":  # NestJS: @Body('url') url: string
            if pattern is not None and pattern.type == "identifier":
                yield [node_text(pattern)], node
        else:
            yield from super().assigned(node)

    def arguments(self, node: Node) -> tuple[list[Node], dict[str, Node]]:
        arglist = node.child_by_field_name("arguments")
        if arglist is None or arglist.type != "arguments":  # a tagged template is parameterised
            return [], {}
        args = [a for a in arglist.named_children if a.type != "comment"]
        options = dict(self.entries(args[-1])) if args and args[-1].type == "object" else {}
        return args, options

    def extra_source(self, node: Node) -> bool:
        return node.type == "decorator" and bool(_SOURCE_DECORATOR.match(node_text(node)))

    def url_of(self, argument: Node) -> Node | None:
        """The URL of ``fetch(url)``, ``fetch(new Request(url, options))``, ``axios({url})``,
        ``http.request({host})``; an options object without one has no URL."""
        if argument.type == "new_expression" and GRAMMAR.callee(argument) in ("Request", "URL"):
            args, _options = self.arguments(argument)
            return args[0] if args else argument
        if argument.type == "object":
            found = dict(self.entries(argument))
            keys = ("url", "uri", "href", "baseURL", "host", "hostname")
            return next((found[k] for k in keys if k in found), None)
        return argument

    def named_values(self, node: Node) -> Iterable[tuple[str, Node]]:
        kind = node.type
        if kind == "variable_declarator":
            value = node.child_by_field_name("value")
            if value is not None:
                yield node_text(node.child_by_field_name("name")), value
        elif kind == "assignment_expression":
            right = node.child_by_field_name("right")
            if right is not None:
                yield node_text(node.child_by_field_name("left")).rsplit(".", 1)[-1], right
        elif kind == "pair":
            key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
            if key is not None and value is not None:
                yield self.key_name(key), value

    def imports(self, node: Node) -> list[str]:
        source = node.child_by_field_name("source") if node.type == "import_statement" else None
        value = GRAMMAR.string_value(source)
        return [value] if value else []

    def subscript_key(self, target: Node | None) -> Node | None:
        """``res.headers['Name'] = v``."""
        if target is None or target.type != "subscript_expression":
            return None
        return target.child_by_field_name("index")

    def jwt(self, call: Call) -> JwtUse | None:
        if call.receiver not in ("jwt", "jsonwebtoken") or call.name not in ("verify", "sign"):
            return None
        key = call.argument(1)
        options = _object_literal(call.args[2]) if len(call.args) > 2 else None
        found = dict(self.entries(options)) if options is not None else {}
        if call.name == "sign":
            return JwtUse(call.node, call.callee, True, key, found.get("algorithm"))
        return JwtUse(
            call.node,
            call.callee,
            False,
            key,
            found.get("algorithms"),
            pinned="algorithms" in found,
            ignore_expiration=node_text(found.get("ignoreExpiration")) == "true",
        )

    def whole_filter(self, query: Node, env: Env) -> bool:
        return bool(_WHOLE_BODY.fullmatch(node_text(query)))

    def safe_filter_value(self, value: Node) -> bool:
        """Path parameters are always strings: ``{_id: req.params.id}`` cannot carry $ne."""
        return bool(_PATH_PARAMETER.match(node_text(value))) or super().safe_filter_value(value)

    def filter_entries(self, call: Call, query: Node | None) -> list[tuple[str, Node]]:
        found = super().filter_entries(call, query)
        shorthand = query.children if query is not None else []
        return found + [
            (node_text(c), c) for c in shorthand if c.type == "shorthand_property_identifier"
        ]

    def check_language(self, node: Node, env: Env, ctx: FileContext) -> None:
        if node.type == "assignment_expression":
            target = node_text(node.child_by_field_name("left"))
            right = node.child_by_field_name("right")
            development = right is not None and GRAMMAR.string_value(right) == "development"
            if development and _NODE_ENV.fullmatch(target) and _server_code(node, ctx):
                ctx.emit("debug-mode", node, "NODE_ENV is forced to 'development' in code")
            elif development and target.endswith("app.env") and not _development_file(ctx):
                ctx.emit("debug-mode", node, f"{target} = 'development' turns on development mode")
        elif node.type == "object":
            _check_cors_options(node, ctx)
            if "APP_GUARD" in node_text(node) and "Throttler" in node_text(node):
                ctx.signals.update({"rate-limit", "rate-limit.global"})

    def check_language_call(self, call: Call, env: Env, ctx: FileContext) -> None:
        if call.callee == "require" and call.args:
            self.signals.see_import(GRAMMAR.string_value(call.args[0]) or "", ctx)
        sets_cookie = call.receiver in _RESPONSES and call.name in ("cookie", "setCookie")
        if sets_cookie or call.callee == "ctx.cookies.set":
            ctx.signals.add("sessions")
        if call.args and not _development_file(ctx):
            _check_debug_mode(call, ctx)


def _object_literal(node: Node) -> Node | None:
    """The object itself, or the object literal last assigned to this name before it
    (``const options = {algorithms: […]}; jwt.verify(t, k, options)``)."""
    if node.type == "object":
        return node
    if node.type != "identifier":
        return None
    found = None
    for declarator in descendants(root_of(node)):
        if declarator.start_byte >= node.start_byte:
            break
        value = declarator.child_by_field_name("value")
        if (
            declarator.type == "variable_declarator"
            and node_text(declarator.child_by_field_name("name")) == node_text(node)
            and value is not None
            and value.type == "object"
            and _visible(declarator, node)
        ):
            found = value
    return found


def _visible(declaration: Node, use: Node) -> bool:
    """Whether the function (or file) that declares a name also contains its use."""
    scope = declaration.parent
    while scope is not None and scope.type not in GRAMMAR.scopes:
        scope = scope.parent
    return scope is None or scope.start_byte <= use.start_byte < scope.end_byte


def _check_debug_mode(call: Call, ctx: FileContext) -> None:
    """Express's ``errorhandler`` mounted whatever the environment, ``app.set('env',
    'development')``, and framework options that turn on development or debug mode."""
    values = [GRAMMAR.string_value(a) for a in call.args]
    if call.name == "set" and values[:2] == ["env", "development"]:
        message = f"{call.callee}('env', 'development') turns on development mode"
        ctx.emit("debug-mode", call.node, message)
    errorhandler = call.name == "use" and any(_errorhandler(a) for a in call.args)
    if errorhandler and not guarded(call.node, ENV_TEST):
        message = f"{call.callee}(errorhandler()) sends stack traces whatever the environment"
        ctx.emit("debug-mode", call.node, message)
    for callee, option, value, framework in _DEBUG_OPTIONS:
        given = node_text(call.options.get(option)).strip("'\"`")
        if callee.fullmatch(call.callee) and given == value:
            message = f"{framework}: {option}: {value} turns on development or debug mode"
            ctx.emit("debug-mode", call.node, message)


def _errorhandler(argument: Node) -> bool:
    """``errorhandler()``, ``require('errorhandler')()`` or Express 3's
    ``express.errorHandler()``: the development error page."""
    if argument.type != "call_expression":
        return False
    function = argument.child_by_field_name("function")
    if function is None:
        return False
    if (
        _ERRORHANDLER.fullmatch(node_text(function))
        or node_text(function) == "express.errorHandler"
    ):
        return True
    return function.type == "identifier" and node_text(function) in _errorhandler_names(
        root_of(argument)
    )


def _errorhandler_names(program: Node) -> set[str]:
    """Top-level names bound to the ``errorhandler`` package (import or require)."""
    names: set[str] = set()
    for statement in program.named_children:
        if statement.type == "import_statement":
            source = statement.child_by_field_name("source")
            if source is not None and GRAMMAR.string_value(source) == "errorhandler":
                names.update(node_text(n) for n in descendants(statement) if n.type == "identifier")
        elif statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                value = declarator.child_by_field_name("value")
                if value is not None and _ERRORHANDLER.fullmatch(node_text(value)):
                    names.add(node_text(declarator.child_by_field_name("name")))
    return names


def _development_file(ctx: FileContext) -> bool:
    return _DEVELOPMENT_FILE.search(ctx.path.rsplit("/", 1)[-1]) is not None


def _server_code(node: Node, ctx: FileContext) -> bool:
    """Whether the file starts an HTTP server (a build or dev script may set NODE_ENV)."""
    return not _development_file(ctx) and _SERVER.search(node_text(root_of(node))) is not None


def _check_cors_options(node: Node, ctx: FileContext) -> None:
    found = {
        GRAMMAR.string_value(k) or node_text(k): node_text(p.child_by_field_name("value"))
        for p in node.named_children
        if p.type == "pair" and (k := p.child_by_field_name("key")) is not None
    }
    origin = found.get("origin")
    any_origin = origin is not None and (origin == "true" or origin.strip("'\"`") == "*")
    if any_origin and found.get("credentials") == "true":
        ctx.emit("cors", node, "CORS allows any origin together with credentials: true")
