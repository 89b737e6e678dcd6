"""Python's tables for the shared rules: Flask, Django, FastAPI, aiohttp and the libraries
they call, plus route-handler parameters as request data."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.base import RuleBase
from backend_agent.analysis.security.call_checks import JwtUse
from backend_agent.analysis.security.engine import ENV_TEST, Env, FileContext, descendants, guarded
from backend_agent.analysis.security.python_routes import route_parameter_shape, route_parameters
from backend_agent.analysis.security.syntax import Call, Grammar

GRAMMAR = Grammar(
    scopes=frozenset({"function_definition", "lambda"}),
    identifiers=frozenset({"identifier"}),
    calls=frozenset({"call"}),
    strings=frozenset({"string"}),
    string_parts=frozenset({"string_content", "escape_sequence"}),
    interpolations=frozenset({"interpolation"}),
    binaries=frozenset({"binary_operator"}),
    parentheses=frozenset({"parenthesized_expression"}),
    literals=frozenset({"integer", "float", "true", "false", "none"}),
    containers=frozenset({"tuple", "list", "parenthesized_expression", "binary_operator"}),
    collections=frozenset({"dictionary", "list", "tuple", "set"}),
    functions=frozenset({"lambda"}),
    members={"attribute": "object"},
    pairs={"keyword_argument": "value", "pair": "value"},
    concatenations=frozenset({"concatenated_string"}),
    conditionals=frozenset({"conditional_expression"}),
    format_operator=True,
)
_SOURCE = re.compile(
    r"request\.(args|form|values|json|get_json|data|get_data|files|cookies|headers|GET|POST|"
    r"FILES|COOKIES|META|body|query_params|path_params|query_string|query|match_info|post|"
    r"content|read|text|stream|rel_url)\b"
)
_WHOLE_BODY = re.compile(r"request\.(json|get_json\(\)|form|args|values|data|GET|POST)")
_SANITIZERS = frozenset(
    {"int", "float", "bool", "len", "url_for", "escape", "quote", "reverse", "jwt.decode"}
)
_ASSIGNMENTS = {"assignment": ("left", "right")}
# Application classes by qualified name, for ``from aiohttp.web import Application``.
_QUALIFIED_APPS = {
    "aiohttp.web.Application": "aiohttp", "tornado.web.Application": "tornado",
    "starlette.applications.Starlette": "starlette", "sanic.Sanic": "sanic",
    "litestar.Litestar": "litestar", "quart.Quart": "quart",
}  # fmt: skip
_APPS = {
    "Flask": "flask", "flask.Flask": "flask", "FastAPI": "fastapi", "Starlette": "starlette",
    "web.Application": "aiohttp", "aiohttp.web.Application": "aiohttp", "Sanic": "sanic",
    "Litestar": "litestar", "tornado.web.Application": "tornado", "Quart": "quart",
}  # fmt: skip
# Calls that switch on a debug mode with ``debug=True`` (or ``serve_traceback=True``).
_DEBUG_CALLS = re.compile(
    r"(.+\.)?(Flask|FastAPI|Starlette|Litestar|Sanic|Quart|Application|GraphQL|GraphQLRouter|"
    r"GraphQLView|GraphQLApp|run|run_app|update|from_mapping)"
)
_DEBUG_OPTIONS = ("debug", "DEBUG", "serve_traceback")
_GRAPHENE_DEBUG = "graphene_django.debug.DjangoDebugMiddleware"
_SETTINGS = re.compile(r"(^|/)settings(\.py$|/)")
_GET_ONLY = re.compile(r"@(require_GET|require_safe)\b|@require_http_methods\(\s*\[\s*['\"]GET")


class PythonRules(RuleBase):
    """The shared rules over Python's grammar."""

    family = "python"
    grammar = GRAMMAR
    extra_nodes = frozenset(
        {"import_statement", "import_from_statement", "function_definition", "as_pattern"}
    )
    assignments = _ASSIGNMENTS
    header_nodes = frozenset({"call", "assignment", "pair"})
    header_setters = frozenset({"add", "set", "setdefault", "add_header"})
    sources = _SOURCE
    source_types = frozenset({"attribute", "call", "subscript"})
    sanitizers = _SANITIZERS
    scalar_casts = _SANITIZERS | {"str", "ObjectId"}
    apps = _APPS

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        if node.type == "function_definition":  # a route handler's parameters hold request data
            for name, parameter, shape in route_parameters(node):
                if shape != "converted":
                    yield [name], parameter
        elif node.type == "as_pattern":  # with requests.Session() as session
            alias, value = node.child_by_field_name("alias"), node.named_children[0]
            if alias is not None:
                yield [node_text(n) for n in descendants(alias) if n.type == "identifier"], value
        else:
            yield from super().assigned(node)

    def arguments(self, node: Node) -> tuple[list[Node], dict[str, Node]]:
        args: list[Node] = []
        options: dict[str, Node] = {}
        arglist = node.child_by_field_name("arguments")
        for arg in arglist.named_children if arglist is not None else []:
            value = arg.child_by_field_name("value")
            if arg.type == "keyword_argument" and value is not None:
                options[node_text(arg.child_by_field_name("name"))] = value
            elif arg.type not in ("comment", "keyword_argument"):
                args.append(arg)
        return args, options

    def extra_source(self, node: Node) -> bool:
        # only ``assigned`` hands over parameters, and only a route handler's
        return node.parent is not None and node.parent.type == "parameters"

    def escaped(self, interpolation: Node) -> bool:
        """``{int(x)}``, ``{shlex.quote(x)}`` or a route parameter the framework made a
        number: an interpolation that cannot inject anything."""
        value = interpolation.named_children[0] if interpolation.named_children else None
        if value is not None and value.type == "identifier":
            return route_parameter_shape(value) == "converted"
        callee = GRAMMAR.callee(value) if value is not None and value.type == "call" else ""
        return callee.rsplit(".", 1)[-1] in _SANITIZERS

    def formatted(self, node: Node, env: Env) -> bool:
        """``"… {}".format(x)`` with a non-literal argument."""
        function = node.child_by_field_name("function")
        if function is None or function.type != "attribute":
            return False
        receiver = function.child_by_field_name("object")
        if node_text(function.child_by_field_name("attribute")) != "format" or receiver is None:
            return False
        args, _options = self.arguments(node)
        return self._stringy(receiver, env) and not all(GRAMMAR.literal(a) for a in args)

    def documentation(self, node: Node) -> bool:
        return node.parent is not None and node.parent.type == "expression_statement"

    def named_values(self, node: Node) -> Iterable[tuple[str, Node]]:
        if node.type == "keyword_argument":
            value = node.child_by_field_name("value")
            if value is not None:
                yield node_text(node.child_by_field_name("name")), value
        elif node.type == "pair":
            key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
            name = GRAMMAR.string_value(key) if key is not None and key.type == "string" else None
            if name is not None and value is not None:
                yield name, value
        elif node.type == "assignment":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None:
                return
            if left.type in ("identifier", "attribute"):
                yield node_text(left).rsplit(".", 1)[-1], right
            elif left.type == "subscript":  # app.config["SECRET_KEY"] = …
                name = GRAMMAR.string_value(left.child_by_field_name("subscript"))
                if name is not None:
                    yield name, right

    def imports(self, node: Node) -> list[str]:
        """``import a.b`` -> ``a.b``; ``from flask import session as s`` -> ``flask``,
        ``flask.session``."""
        if node.type == "import_statement":
            return [node_text(n.child_by_field_name("name") or n) for n in node.named_children]
        if node.type != "import_from_statement":
            return []
        module = node_text(node.child_by_field_name("module_name"))
        names = node.children_by_field_name("name")  # dotted names, or aliased imports
        return [module] + [
            f"{module}.{node_text(n.child_by_field_name('name') or n)}" for n in names
        ]

    def subscript_key(self, target: Node | None) -> Node | None:
        """``response.headers["Name"] = v`` and Django's ``response["Name"] = v``."""
        if target is None or target.type != "subscript":
            return None
        return target.child_by_field_name("subscript")

    def jwt(self, call: Call) -> JwtUse | None:
        if call.callee not in ("jwt.decode", "jwt.encode"):
            return None
        key = call.argument(1, "key")
        if call.name == "encode":
            return JwtUse(call.node, call.callee, True, key, call.argument(2, "algorithm"))
        options = node_text(call.options.get("options")).replace(" ", "")
        verify = call.options.get("verify")
        verify_off = (verify is not None and verify.type == "false") or bool(
            re.search(r"[\"']verify_signature[\"']:False", options)
        )
        return JwtUse(
            call.node,
            call.callee,
            False,
            key,
            call.options.get("algorithms"),
            pinned="algorithms" in call.options,
            verify_off=verify_off,
            ignore_expiration=bool(re.search(r"[\"']verify_exp[\"']:False", options)),
        )

    def whole_filter(self, query: Node, env: Env) -> bool:
        if _WHOLE_BODY.fullmatch(node_text(query)):
            return True
        tainted = query.type == "identifier" and self.is_tainted(query, env)
        return tainted and route_parameter_shape(query) != "validated"

    def safe_filter_value(self, value: Node) -> bool:
        # a string, a number or a model's field: never an operator object
        shape = route_parameter_shape(value)
        return shape in ("validated", "converted") or super().safe_filter_value(value)

    def check_language(self, node: Node, env: Env, ctx: FileContext) -> None:
        if node.type == "import_from_statement":
            module = node_text(node.child_by_field_name("module_name"))
            for name in node.children_by_field_name("name"):
                imported = node_text(name.child_by_field_name("name") or name)
                alias = node_text(name.child_by_field_name("alias")) or imported
                ctx.aliases[alias] = f"{module}.{imported}"
        elif node.type == "assignment":
            _check_assignment(node, ctx)
        elif node.type == "function_definition":
            _check_csrf_exempt(node, ctx)
        elif _graphene_debug(node, ctx):
            ctx.emit("debug-mode", node, "Graphene's DjangoDebugMiddleware in settings")

    def check_language_call(self, call: Call, env: Env, ctx: FileContext) -> None:
        first, _, rest = call.callee.partition(".")
        qualified = ".".join(filter(None, (ctx.aliases.get(first, first), rest)))
        if qualified in _QUALIFIED_APPS and call.callee not in _APPS:
            ctx.app(_QUALIFIED_APPS[qualified], call.node)
        options = call.options
        debug = next((o for o in _DEBUG_OPTIONS if _is_true(options.get(o))), None)
        everywhere = not guarded(call.node, ENV_TEST)
        if debug and _DEBUG_CALLS.fullmatch(call.callee) and everywhere:
            ctx.emit("debug-mode", call.node, f"{call.callee}({debug}=True) turns debug mode on")
        toolbar = call.callee in ("aiohttp_debugtoolbar.setup", "DebugToolbarExtension")
        if toolbar and everywhere:
            ctx.emit("debug-mode", call.node, f"{call.callee}() serves the debug toolbar")
        if call.name in ("csrf_exempt",) and call.args:
            message = "csrf_exempt() turns off CSRF protection on a view"
            ctx.emit("missing-csrf", call.node, message)
        if call.name == "Limiter" and "default_limits" in options:
            ctx.signals.update({"rate-limit", "rate-limit.global"})
        _check_cors_call(call, ctx)


def _is_true(node: Node | None) -> bool:
    return node is not None and node.type == "true"


def _check_assignment(node: Node, ctx: FileContext) -> None:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None:
        return
    target = node_text(left)
    statement = node.parent
    module_level = statement is not None and (
        statement.parent is not None and statement.parent.type == "module"
    )
    debug_key = left.type == "subscript" and GRAMMAR.string_value(
        left.child_by_field_name("subscript")
    ) in ("DEBUG", "debug")
    everywhere = not guarded(node, ENV_TEST)
    if (target.endswith(".debug") or debug_key) and _is_true(right) and everywhere:
        ctx.emit("debug-mode", node, f"{target} = True turns debug mode on")
    if module_level and target == "DEBUG" and _is_true(right) and _production_settings(ctx.path):
        ctx.emit("debug-mode", node, "DEBUG = True in Django settings")
    if module_level and target == "MIDDLEWARE":
        ctx.app("django", node)
    if target == "throttle_classes" and not module_level:
        ctx.signals.add("rate-limit.file")
    allow_all = target in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL")
    credentials = allow_all and _module_sets_true(node, "CORS_ALLOW_CREDENTIALS")
    if module_level and allow_all and _is_true(right) and credentials:
        ctx.emit("cors", node, f"{target} = True with CORS_ALLOW_CREDENTIALS = True")


def _check_csrf_exempt(function: Node, ctx: FileContext) -> None:
    """``@csrf_exempt`` on a view that accepts more than GET."""
    decorated = function.parent
    if decorated is None or decorated.type != "decorated_definition":
        return
    decorators = [node_text(d) for d in decorated.named_children if d.type == "decorator"]
    exempt = next((d for d in decorators if re.search(r"\bcsrf_exempt\b", d)), None)
    if exempt is not None and not any(_GET_ONLY.match(d) for d in decorators):
        name = node_text(function.child_by_field_name("name"))
        ctx.emit("missing-csrf", decorated, f"@csrf_exempt turns off CSRF protection on {name}")


def _check_cors_call(call: Call, ctx: FileContext) -> None:
    options = call.options
    if call.name == "CORS" and _is_true(options.get("supports_credentials")):
        origins = options.get("origins")
        any_origin = "*" in _strings_in(origins) if origins else "resources" not in options
        if any_origin:
            ctx.emit("cors", call.node, "CORS() allows any origin with supports_credentials=True")
    middleware = node_text(call.args[0]) if call.args else ""
    cors = call.name in ("add_middleware", "Middleware") and middleware == "CORSMiddleware"
    any_origin = "*" in _strings_in(options.get("allow_origins"))
    if cors and any_origin and _is_true(options.get("allow_credentials")):
        ctx.emit("cors", call.node, f"{call.callee}(CORSMiddleware) allows '*' with credentials")


def _strings_in(node: Node | None) -> list[str]:
    if node is None:
        return []
    found = (GRAMMAR.string_value(n) for n in descendants(node) if n.type == "string")
    return [v for v in found if v is not None]


def _graphene_debug(node: Node, ctx: FileContext) -> bool:
    graphene = node.type == "string" and GRAMMAR.string_value(node) == _GRAPHENE_DEBUG
    return graphene and _production_settings(ctx.path)


def _production_settings(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return bool(_SETTINGS.search(path)) and not re.search(r"dev|local|test", base)


def _module_sets_true(node: Node, name: str) -> bool:
    module = node
    while module.parent is not None:
        module = module.parent
    for statement in module.named_children:
        assignment = statement.named_children[0] if statement.named_children else None
        if assignment is not None and assignment.type == "assignment":
            left = assignment.child_by_field_name("left")
            if node_text(left) == name and _is_true(assignment.child_by_field_name("right")):
                return True
    return False
