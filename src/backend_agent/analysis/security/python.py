"""Security rules for Python: Flask, Django, FastAPI, and the libraries they call."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

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
    r"request\.(args|form|values|json|get_json|data|get_data|files|cookies|headers|GET|POST|"
    r"FILES|COOKIES|META|body|query_params|path_params|query_string|query|match_info|post)\b"
)
_WHOLE_BODY = re.compile(r"request\.(json|get_json\(\)|form|args|values|data|GET|POST)")
_SANITIZERS = frozenset({"int", "float", "bool", "len", "url_for", "escape", "quote", "reverse"})
_SCALAR_CASTS = _SANITIZERS | {"str", "ObjectId"}
_SQL_SINKS = frozenset(
    {"execute", "executemany", "executescript", "raw", "text", "exec_driver_sql", "RawSQL"}
)
_MONGO_METHODS = frozenset(
    {
        "find", "find_one", "find_one_and_update", "find_one_and_delete", "find_one_and_replace",
        "update_one", "update_many", "delete_one", "delete_many", "count_documents", "replace_one",
    }
)  # fmt: skip
_SHELL_CALLS = frozenset(
    {
        "os.system",
        "os.popen",
        "system",
        "popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
    }
)
_SUBPROCESS = frozenset({"run", "call", "check_call", "check_output", "Popen"})
_REDIRECTS = frozenset(
    {"redirect", "RedirectResponse", "HttpResponseRedirect", "HttpResponsePermanentRedirect"}
)
_HTTP_CLIENT = re.compile(
    r"(requests|httpx)\.(get|post|put|patch|delete|head|options|request|stream)"
)
_URLOPEN = frozenset({"urlopen", "urllib.request.urlopen", "request.urlopen"})
_ENV_READS = frozenset(
    {"os.environ.get", "os.getenv", "environ.get", "getenv", "os.environ.setdefault", "config"}
)
_SETTINGS = re.compile(r"(^|/)settings(\.py$|/)")
_LITERALS = frozenset({"integer", "float", "true", "false", "none"})
_CONTAINERS = frozenset({"tuple", "list", "parenthesized_expression", "binary_operator"})

SIGNALS = Signals(
    imports={
        "rate-limit": r"(flask_limiter|slowapi|django_ratelimit|ratelimit|fastapi_limiter)(\.|$)",
        "security-headers": r"(flask_talisman|talisman|secure)(\.|$)",
        "csrf": r"(flask_wtf|flask_seasurf|starlette_csrf|fastapi_csrf_protect)(\.|$)",
        "sessions": r"(flask\.session|flask_login|flask_session|starlette\.middleware\.sessions)"
        r"(\.|$)",
    },
    strings={
        "rate-limit": r"DEFAULT_THROTTLE_(CLASSES|RATES)|rest_framework\.throttling\..*",
        "security-headers": r"django\.middleware\.security\.SecurityMiddleware|" + HEADER_NAMES,
        "csrf": r"django\.middleware\.csrf\.CsrfViewMiddleware",
        "sessions": r"django\.contrib\.sessions\.middleware\.SessionMiddleware",
    },
)
# Route handlers (FastAPI, Flask, Starlette routers): their parameters are request data, except
# injected dependencies, framework objects and values the framework has already converted.
_ROUTE_DECORATOR = re.compile(
    r"@\s*[\w.]+\.(get|post|put|patch|delete|head|options|route|api_route|websocket)\s*\("
)
_INJECTED = re.compile(r"\b(Depends|Security)\s*\(")
_FRAMEWORK_TYPES = frozenset(
    {
        "Request", "Response", "BackgroundTasks", "WebSocket", "HTTPConnection",
        "SecurityScopes", "Session", "AsyncSession", "Connection",
    }
)  # fmt: skip
_CONVERTED_TYPES = frozenset(
    {"int", "float", "bool", "UUID", "uuid.UUID", "datetime", "date", "time", "Decimal"}
)
_PARAMETERS = frozenset(
    {"identifier", "typed_parameter", "default_parameter", "typed_default_parameter"}
)
_LOOSE_TYPES = re.compile(r"(dict|Dict|Any|Json|Mapping|typing\.Any)\b")
_FLASK_CONVERTED = re.compile(r"<(?:int|float|uuid):(\w+)>")
_APPS = {"Flask": "flask", "flask.Flask": "flask", "FastAPI": "fastapi", "Starlette": "starlette"}


class PythonRules:
    """The Python grammar's view of calls, strings and assignments, and the rules over them."""

    scope_types = frozenset({"function_definition", "lambda"})
    interesting = frozenset(
        {
            "call", "assignment", "keyword_argument", "pair", "string",
            "import_statement", "import_from_statement", "function_definition",
        }
    )  # fmt: skip

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        if node.type == "function_definition":  # a route handler's parameters hold request data
            for name, parameter, shape in _route_parameters(node):
                if shape != "converted":
                    yield [name], parameter
            return
        if node.type != "assignment":
            return
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        names = [text(n) for n in descendants(left) if n.type == "identifier"]
        yield names, right

    def is_tainted(self, node: Node, env: Env) -> bool:
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind == "identifier" and text(current) in env.tainted:
                return True
            if current.parent is not None and current.parent.type == "parameters":
                return True  # only ``assigned`` hands over parameters: a route handler's
            if kind in ("attribute", "call", "subscript") and _SOURCE.match(text(current)):
                return True
            if kind == "lambda" or (kind == "call" and _name(current) in _SANITIZERS):
                continue  # a function is not data; a conversion ends the taint
            if kind == "attribute":
                stack.extend(_fields(current, "object"))
            elif kind == "keyword_argument":
                stack.extend(_fields(current, "value"))
            elif kind == "string":
                stack.extend(c for c in current.children if c.type == "interpolation")
            else:
                stack.extend(current.children)
        return False

    def is_built(self, node: Node, env: Env) -> bool:
        kind = node.type
        if kind == "identifier":
            return text(node) in env.built
        if kind == "parenthesized_expression":
            return any(self.is_built(c, env) for c in node.named_children)
        if kind == "string":
            return any(c.type == "interpolation" and not _escaped(c) for c in node.children)
        if kind == "concatenated_string":
            return any(self.is_built(c, env) for c in node.named_children)
        if kind == "binary_operator":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            operator = text(node.child_by_field_name("operator"))
            if left is None or right is None or operator not in ("%", "+"):
                return False
            if operator == "%":
                return self._stringy(left, env) and not _literal(right)
            parts = operands(node, "+")
            return any(self._stringy(p, env) for p in parts) and not all(map(_literal, parts))
        if kind == "call":
            function = node.child_by_field_name("function")
            if function is not None and function.type == "attribute":
                receiver = function.child_by_field_name("object")
                if text(function.child_by_field_name("attribute")) == "format" and receiver:
                    return self._stringy(receiver, env) and not all(
                        _literal(a) for a in _arguments(node)[0]
                    )
        return False

    def check(self, node: Node, env: Env, ctx: FileContext) -> None:
        kind = node.type
        if kind in ("call", "assignment", "pair"):
            cors = hand_set_cors(node, env, self, _header_settings, _string_value)
            if cors is not None:
                ctx.emit("cors", node, cors)
        if kind == "call":
            self._check_call(node, env, ctx)
        elif kind == "assignment":
            self._check_assignment(node, ctx)
        elif kind == "keyword_argument":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            _check_secret(text(name), value, ctx)
        elif kind == "pair":
            self._check_pair(node, env, ctx)
        elif kind == "function_definition":
            return  # its parameters were handled by ``assigned``
        elif kind == "string":
            literal = _string_value(node)
            documentation = node.parent is not None and node.parent.type == "expression_statement"
            if literal is not None and not documentation:
                SIGNALS.see_string(literal, ctx)
                if token_format(literal):
                    ctx.emit(
                        "hardcoded-secret.token-format",
                        node,
                        "a string literal has the format of a real credential",
                    )
        else:
            for module in _imported(node):
                SIGNALS.see_import(module, ctx)

    def _stringy(self, node: Node, env: Env) -> bool:
        return node.type in ("string", "concatenated_string") or self.is_built(node, env)

    def _check_call(self, node: Node, env: Env, ctx: FileContext) -> None:
        callee, name = text(node.child_by_field_name("function")), _name(node)
        args, kwargs = _arguments(node)
        first = args[0] if args else None
        if callee in _APPS:
            ctx.app(_APPS[callee], node)
            if _is_true(kwargs.get("debug")):
                ctx.emit("debug-mode", node, f"{callee}(debug=True) turns debug mode on")
        if first is not None and name in _SQL_SINKS and self.is_built(first, env):
            origin = env.built.get(text(first), first) if first.type == "identifier" else first
            if SQL_TEXT.search(text(origin)):
                ctx.emit("sql-injection", node, f"{callee}() runs SQL built from a string")
        elif (
            first is not None
            and name in _SQL_SINKS
            and first.type not in ("dictionary", "list", "tuple")
            and self.is_tainted(first, env)
        ):
            ctx.emit("sql-injection", node, f"{callee}() runs SQL text taken from the request")
        if first is not None and name in _MONGO_METHODS:
            self._check_mongo_filter(first, env, ctx, callee)
        shell = callee in _SHELL_CALLS or (
            name in _SUBPROCESS
            and callee in (name, f"subprocess.{name}")
            and _is_true(kwargs.get("shell"))
        )
        if (
            shell
            and first is not None
            and (self.is_built(first, env) or self.is_tainted(first, env))
        ):
            ctx.emit("command-injection", node, f"{callee}() runs a shell command built from data")
        target = first if first is not None else kwargs.get("url")
        if name in _REDIRECTS and target is not None and self.is_tainted(target, env):
            ctx.emit("open-redirect", node, f"{callee}() redirects to a URL from the request")
        url = _http_url(callee, args, kwargs)
        if url is not None and self.is_tainted(url, env):
            ctx.emit("ssrf", node, f"{callee}() fetches a URL taken from the request")
        if callee in ("jwt.decode", "jwt.encode"):
            _check_jwt(node, name, args, kwargs, ctx)
        if name == "run" and _is_true(kwargs.get("debug")):
            ctx.emit("debug-mode", node, f"{callee}(debug=True) runs the server in debug mode")
        if callee in _ENV_READS:
            _check_env_fallback(node, args, kwargs, ctx)
        _check_cors_call(node, callee, name, args, kwargs, ctx)

    def _check_mongo_filter(self, query: Node, env: Env, ctx: FileContext, callee: str) -> None:
        whole_filter = query.type == "identifier" and self.is_tainted(query, env)
        if _WHOLE_BODY.fullmatch(text(query)) or (
            whole_filter and _route_parameter_shape(query) != "validated"
        ):
            message = f"{callee}() uses request data as its whole filter"
            ctx.emit("nosql-injection.operator", query, message)
            return
        if query.type != "dictionary":
            return
        for pair in query.named_children:
            value = pair.child_by_field_name("value") if pair.type == "pair" else None
            key = _string_value(pair.child_by_field_name("key") or pair) or ""
            if value is None or key.startswith("$"):  # $where has its own rule
                continue
            if value.type == "call" and _name(value) in _SCALAR_CASTS:
                continue
            if _route_parameter_shape(value) in ("validated", "converted"):
                continue  # a string, a number or a model's field: never an operator object
            if self.is_tainted(value, env):
                message = f"{callee}() filter takes {text(value)} unchecked from the request"
                ctx.emit("nosql-injection.operator", value, message)

    def _check_pair(self, node: Node, env: Env, ctx: FileContext) -> None:
        key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
        if key is None or value is None or key.type != "string":
            return
        name = _string_value(key) or ""
        if name == "$where" and not _literal(value):
            ctx.emit("nosql-injection.where", node, "a $where clause is built from data")
        _check_secret(name, value, ctx)

    def _check_assignment(self, node: Node, ctx: FileContext) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        target = text(left)
        statement = node.parent
        module_level = statement is not None and (
            statement.parent is not None and statement.parent.type == "module"
        )
        if left.type == "attribute" and target.endswith(".debug") and _is_true(right):
            ctx.emit("debug-mode", node, f"{target} = True turns debug mode on")
        if (
            module_level
            and target == "DEBUG"
            and _is_true(right)
            and _production_settings(ctx.path)
        ):
            ctx.emit("debug-mode", node, "DEBUG = True in Django settings")
        if module_level and target == "MIDDLEWARE":
            ctx.app("django", node)
        allow_all = target in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL")
        credentials = allow_all and _module_sets_true(node, "CORS_ALLOW_CREDENTIALS")
        if module_level and allow_all and _is_true(right) and credentials:
            message = f"{target} = True with CORS_ALLOW_CREDENTIALS = True"
            ctx.emit("cors", node, message)
        if left.type in ("identifier", "attribute"):
            _check_secret(target.rsplit(".", 1)[-1], right, ctx)


Shape = Literal["converted", "validated", "loose"]


def _route_parameters(function: Node) -> list[tuple[str, Node, Shape]]:
    """(name, parameter, shape) for each parameter of a route handler that comes from the
    request: FastAPI query/path/body parameters, Flask path variables. Not: dependencies
    (``Depends``/``Security``) and framework objects (``Request``, ``Session``).

    Shapes: ``converted`` to a number, date or UUID by the framework (``int``, ``<int:id>``),
    harmless anywhere; ``validated`` as a string or a model, which cannot smuggle a MongoDB
    operator; ``loose`` (``dict``, ``Any``), which can.
    """
    decorated = function.parent
    if decorated is None or decorated.type != "decorated_definition":
        return []
    routes = [
        text(d) for d in decorated.named_children if d.type == "decorator"
        if _ROUTE_DECORATOR.match(text(d))
    ]  # fmt: skip
    if not routes:
        return []
    converted = {m.group(1) for route in routes for m in _FLASK_CONVERTED.finditer(route)}
    found: list[tuple[str, Node, Shape]] = []
    parameters = function.child_by_field_name("parameters")
    for parameter in parameters.named_children if parameters is not None else []:
        if parameter.type not in _PARAMETERS:  # *args, **kwargs, the bare * and /
            continue
        name_node = parameter if parameter.type == "identifier" else parameter.named_children[0]
        name, annotation = text(name_node), _base_type(parameter.child_by_field_name("type"))
        if name_node.type != "identifier" or name in ("self", "cls"):
            continue
        if _INJECTED.search(text(parameter)) or annotation in _FRAMEWORK_TYPES:
            continue
        if name in converted or annotation in _CONVERTED_TYPES:
            found.append((name, parameter, "converted"))
        else:
            loose = _LOOSE_TYPES.match(annotation)
            found.append((name, parameter, "loose" if loose else "validated"))
    return found


def _base_type(annotation: Node | None) -> str:
    """``Annotated[str, Query()]`` and ``Optional[str]`` and ``str | None`` are ``str``."""
    value = re.sub(r"\s", "", text(annotation))
    value = re.sub(r"^(Annotated|Optional)\[([^,\]]+).*", r"\2", value)
    return value.removesuffix("|None")


def _route_parameter_shape(value: Node) -> Shape | None:
    """The shape of the route handler parameter that ``value`` is (or is a field of)."""
    root = value
    while root.type == "attribute" and root.child_by_field_name("object") is not None:
        root = root.child_by_field_name("object") or root
    function = value.parent
    while function is not None and function.type != "function_definition":
        function = function.parent
    if root.type != "identifier" or function is None:
        return None
    name = text(root)
    return next((shape for n, _p, shape in _route_parameters(function) if n == name), None)


def _fields(node: Node, name: str) -> list[Node]:
    child = node.child_by_field_name(name)
    return [child] if child is not None else []


def _name(call: Node) -> str:
    return text(call.child_by_field_name("function")).rsplit(".", 1)[-1]


def _arguments(call: Node) -> tuple[list[Node], dict[str, Node]]:
    args: list[Node] = []
    kwargs: dict[str, Node] = {}
    arglist = call.child_by_field_name("arguments")
    for arg in arglist.named_children if arglist is not None else []:
        if arg.type == "keyword_argument":
            value = arg.child_by_field_name("value")
            if value is not None:
                kwargs[text(arg.child_by_field_name("name"))] = value
        elif arg.type != "comment":
            args.append(arg)
    return args, kwargs


def _escaped(interpolation: Node) -> bool:
    """``{int(x)}``, ``{shlex.quote(x)}`` or a route parameter the framework made a number:
    an interpolation that cannot inject anything."""
    value = interpolation.named_children[0] if interpolation.named_children else None
    if value is not None and value.type == "identifier":
        return _route_parameter_shape(value) == "converted"
    return value is not None and value.type == "call" and _name(value) in _SANITIZERS


def _string_value(node: Node) -> str | None:
    """The value of a string literal, or None when it interpolates anything."""
    if node.type == "concatenated_string":
        parts = [_string_value(c) for c in node.named_children]
        return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
    if node.type != "string" or any(c.type == "interpolation" for c in node.children):
        return None
    return "".join(
        text(c) for c in node.children if c.type in ("string_content", "escape_sequence")
    )


def _literal(node: Node) -> bool:
    return all_literal(node, _literal_leaf, _CONTAINERS)


def _literal_leaf(node: Node) -> bool:
    return node.type in _LITERALS or _string_value(node) is not None


def _is_true(node: Node | None) -> bool:
    return node is not None and node.type == "true"


def _strings_in(node: Node | None) -> list[str]:
    if node is None:
        return []
    return [
        v for n in descendants(node) if n.type == "string" and (v := _string_value(n)) is not None
    ]


def _imported(node: Node) -> list[str]:
    """``import a.b`` -> ``a.b``; ``from flask import session as s`` -> ``flask``,
    ``flask.session``."""
    if node.type == "import_statement":
        return [text(n.child_by_field_name("name") or n) for n in node.named_children]
    module = text(node.child_by_field_name("module_name"))
    names = node.children_by_field_name("name")  # dotted names, or aliased imports
    return [module] + [f"{module}.{text(n.child_by_field_name('name') or n)}" for n in names]


def _check_secret(name: str, value: Node | None, ctx: FileContext) -> None:
    if value is None or not secret_name(name):
        return
    literal = _string_value(value)
    if literal is not None and secret_value(name, literal) and not token_format(literal):
        ctx.emit("hardcoded-secret", value, f"{name} is set to a literal secret")


def _check_env_fallback(
    node: Node, args: list[Node], kwargs: dict[str, Node], ctx: FileContext
) -> None:
    variable = _string_value(args[0]) if args else None
    fallback = args[1] if len(args) > 1 else kwargs.get("default")
    literal = _string_value(fallback) if fallback is not None else None
    if variable and secret_name(variable) and literal and literal.strip():
        ctx.emit(
            "hardcoded-secret.env-fallback",
            node,
            f"{variable} falls back to a literal when the environment does not set it",
        )


def _check_jwt(
    node: Node, name: str, args: list[Node], kwargs: dict[str, Node], ctx: FileContext
) -> None:
    key = args[1] if len(args) > 1 else kwargs.get("key")
    if key is not None and _string_value(key) is not None:
        ctx.emit("jwt-misuse.literal-key", key, f"jwt.{name}() uses a literal key")
    if name == "encode":
        algorithm = args[2] if len(args) > 2 else kwargs.get("algorithm")
        if algorithm is not None and (_string_value(algorithm) or "").lower() == "none":
            ctx.emit("jwt-misuse.none-algorithm", algorithm, "jwt.encode() signs with 'none'")
        return
    options = kwargs.get("options")
    option_text = text(options).replace(" ", "")
    verify = kwargs.get("verify")
    if (verify is not None and verify.type == "false") or (
        re.search(r"[\"']verify_signature[\"']:False", option_text)
    ):
        ctx.emit("jwt-misuse.verify-disabled", node, "jwt.decode() skips signature verification")
    elif "algorithms" not in kwargs:
        ctx.emit("jwt-misuse.no-algorithms", node, "jwt.decode() without algorithms=[...]")
    elif any(s.lower() == "none" for s in _strings_in(kwargs["algorithms"])):
        ctx.emit("jwt-misuse.none-algorithm", kwargs["algorithms"], "jwt.decode() accepts 'none'")
    if re.search(r"[\"']verify_exp[\"']:False", option_text):
        ctx.emit("jwt-misuse.ignore-expiration", node, "jwt.decode() does not check expiry")


def _http_url(callee: str, args: list[Node], kwargs: dict[str, Node]) -> Node | None:
    if callee in _URLOPEN:
        return args[0] if args else kwargs.get("url")
    match = _HTTP_CLIENT.fullmatch(callee)
    if match is None:
        return None
    position = 1 if match.group(2) in ("request", "stream") else 0
    return args[position] if len(args) > position else kwargs.get("url")


def _check_cors_call(
    node: Node, callee: str, name: str, args: list[Node], kwargs: dict[str, Node], ctx: FileContext
) -> None:
    if name == "CORS" and _is_true(kwargs.get("supports_credentials")):
        origins = kwargs.get("origins")
        any_origin = "*" in _strings_in(origins) if origins else "resources" not in kwargs
        if any_origin:
            ctx.emit("cors", node, "CORS() allows any origin with supports_credentials=True")
    middleware = text(args[0]) if args else ""
    cors_middleware = name in ("add_middleware", "Middleware") and middleware == "CORSMiddleware"
    any_origin = "*" in _strings_in(kwargs.get("allow_origins"))
    if cors_middleware and any_origin and _is_true(kwargs.get("allow_credentials")):
        ctx.emit("cors", node, f"{callee}(CORSMiddleware) allows '*' with credentials")


def _header_settings(node: Node) -> list[tuple[str, Node]]:
    """``response.headers["Name"] = v`` (and Django's ``response["Name"] = v``),
    ``headers.add/set/setdefault("Name", v)`` and ``{"Name": v}``."""
    name: str | None = None
    value: Node | None = None
    if node.type == "assignment":
        left = node.child_by_field_name("left")
        index = left.child_by_field_name("subscript") if left is not None else None
        if left is not None and left.type == "subscript" and index is not None:
            name, value = _string_value(index), node.child_by_field_name("right")
    elif node.type == "call" and _name(node) in ("add", "set", "setdefault", "add_header"):
        args, _kwargs = _arguments(node)
        if len(args) == 2:
            name, value = _string_value(args[0]), args[1]
    elif node.type == "pair":
        key = node.child_by_field_name("key")
        if key is not None:
            name, value = _string_value(key), node.child_by_field_name("value")
    return [(name.lower(), value)] if name and value is not None else []


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
            if text(left) == name and _is_true(assignment.child_by_field_name("right")):
                return True
    return False
