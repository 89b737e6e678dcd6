"""Security rules for Ruby: Rails, Sinatra, Grape and the libraries they call."""

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
    r"request\.(params|query_parameters|request_parameters|body|headers|query_string|referer|"
    r"referrer|origin)\b|request\.env\[['\"]HTTP_"
)
_SOURCE_NAMES = frozenset({"params", "cookies"})
_SANITIZERS = frozenset({"to_i", "to_f", "to_sym", "Integer", "Float", "url_for"})
_ESCAPES = _SANITIZERS | {"shellescape", "escape", "quote", "sanitize_sql"}
_QUERY_METHODS = frozenset(
    {
        "find_by_sql", "where", "order", "reorder", "select", "joins", "group", "having",
        "from", "pluck", "exists?", "delete_all", "update_all", "count_by_sql", "not",
    }
)  # fmt: skip
# Methods whose first argument is SQL text even when it is not a hash (unlike ``where``).
_SQL_TEXT_METHODS = frozenset(
    {
        "find_by_sql", "order", "reorder", "pluck", "group", "select", "from", "joins",
        "having", "execute", "exec_query", "select_all", "select_value", "select_rows",
    }
)  # fmt: skip
_RAW_SQL = frozenset({"execute", "exec_query", "select_all", "select_value", "select_rows"})
# Mongoid criteria and Mongo driver collection methods that take a filter hash first.
_MONGO_QUERIES = frozenset(
    {
        "where", "find_by", "find_by!", "any_of", "all_of", "none_of", "nor", "find_one_and_update",
        "find_one_and_delete", "find_one_and_replace", "update_one", "update_many", "delete_one",
        "delete_many", "count_documents", "replace_one",
    }
)  # fmt: skip
_DRIVER_COLLECTION = re.compile(r".*(\[:\w+\]|collection)$")  # client[:users], Model.collection
_SCALAR_CASTS = frozenset(
    {"to_s", "to_i", "to_f", "to_sym", "String", "Integer", "Float", "from_string", "permit"}
)
_SHELL = frozenset({"system", "exec", "spawn", "open"})
_SHELL_CALLS = re.compile(r"(Open3\.(capture2e?|capture3|popen2e?|popen3|pipeline\w*)|IO\.popen)")
_HTTP_CLIENT = re.compile(
    r"(Net::HTTP\.(get|get_response|post_form|start)|URI\.open|(HTTParty|Faraday|RestClient|"
    r"HTTP|Excon|Typhoeus)\.(get|post|put|patch|delete|head|request))"
)
_STRINGS = frozenset({"string", "subshell"})
_LITERALS = frozenset({"integer", "float", "true", "false", "nil", "simple_symbol"})
_CONTAINERS = frozenset({"binary", "array", "parenthesized_statements"})
_APPS = {
    "Rails::Application": "rails",
    "Sinatra::Base": "sinatra",
    "Sinatra::Application": "sinatra",
}

SIGNALS = Signals(
    imports={
        "rate-limit": r"(rack-attack|rack/attack|rack-throttle|rack/throttle)$",
        "security-headers": r"(secure_headers)$",
        "csrf": r"(rack_csrf|rack/csrf)$",
        "mongodb": r"(mongoid|mongo)$",
    },
    strings={"security-headers": HEADER_NAMES},
)


class RubyRules:
    """The Ruby grammar's view of calls and strings, and the rules over them."""

    scope_types = frozenset({"method", "singleton_method", "block", "do_block", "lambda"})
    interesting = frozenset(
        {"call", "assignment", "pair", "string", "subshell", "binary", "class", "scope_resolution"}
    )

    def assigned(self, node: Node) -> Iterable[tuple[list[str], Node]]:
        if node.type != "assignment":
            return
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and right is not None:
            names = [
                text(n) for n in descendants(left) if n.type in ("identifier", "instance_variable")
            ]
            yield names, right

    def is_tainted(self, node: Node, env: Env) -> bool:
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind in ("identifier", "instance_variable"):
                name = text(current)
                if name in env.tainted or name in _SOURCE_NAMES:
                    return True
            if kind == "call":
                if _SOURCE.match(text(current)):
                    return True
                if _method(current) in _SANITIZERS:
                    continue
            if kind == "pair":
                stack.extend(_fields(current, "value"))
            elif kind in _STRINGS:
                stack.extend(c for c in current.children if c.type == "interpolation")
            else:
                stack.extend(current.children)
        return False

    def is_built(self, node: Node, env: Env) -> bool:
        kind = node.type
        if kind in ("identifier", "instance_variable"):
            return text(node) in env.built
        if kind == "parenthesized_statements":
            return any(self.is_built(c, env) for c in node.named_children)
        if kind in _STRINGS:
            return any(c.type == "interpolation" and not _escaped(c) for c in node.children)
        if kind == "binary":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            operator = text(node.child_by_field_name("operator"))
            if left is None or right is None or operator not in ("+", "%"):
                return False
            if operator == "%":
                return self._stringy(left, env) and not _literal(right)
            parts = operands(node, "+")
            return any(self._stringy(p, env) for p in parts) and not all(map(_literal, parts))
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
        elif kind == "pair":
            self._check_pair(node, ctx)
        elif kind == "binary":
            _check_env_fallback(node, ctx)
        elif kind == "class":
            superclass = node.child_by_field_name("superclass")
            parent = text(superclass).lstrip("<").strip()
            if parent in _APPS:
                ctx.app(_APPS[parent], node)
        elif kind == "scope_resolution":
            if text(node) == "Rack::Attack":
                ctx.signals.add("rate-limit")
            elif text(node) in ("Mongoid::Document", "Mongo::Client"):
                ctx.signals.add("mongodb")
        elif kind == "subshell" and self.is_built(node, env):
            ctx.emit("command-injection", node, "a backtick command is built from data")
        elif kind == "string":
            value = _string_value(node)
            if value is not None:
                SIGNALS.see_string(value, ctx)
                if token_format(value):
                    message = "a string literal has the format of a real credential"
                    ctx.emit("hardcoded-secret.token-format", node, message)

    def _check_pair(self, node: Node, ctx: FileContext) -> None:
        key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
        where = _symbol(key).strip("\"'") == "$where"
        if where and value is not None and not _literal(value) and value.type != "constant":
            ctx.emit("nosql-injection.where", node, "a $where clause is built from data")
        _check_secret(_symbol(key), value, ctx)

    def _stringy(self, node: Node, env: Env) -> bool:
        return node.type in _STRINGS or self.is_built(node, env)

    def _check_call(self, node: Node, env: Env, ctx: FileContext) -> None:
        receiver, name = text(node.child_by_field_name("receiver")), _method(node)
        callee = f"{receiver}.{name}" if receiver else name
        args, options = _arguments(node)
        first = args[0] if args else None
        first_value = _string_value(first) if first is not None else None
        if not receiver and name in ("require", "gem") and first_value:
            SIGNALS.see_import(first_value, ctx)
            if first_value == "sinatra":
                ctx.app("sinatra", node)
        self._check_framework_settings(node, receiver, name, args, ctx)
        driver_find = name == "find" and _DRIVER_COLLECTION.match(receiver) is not None
        if (receiver and name in _MONGO_QUERIES) or driver_find:
            self._check_mongo_filter(callee, first, options, env, ctx)
        if first is None:
            return
        if self.is_built(first, env) and (
            (receiver and name in _QUERY_METHODS)
            or (name in _RAW_SQL and SQL_TEXT.search(_origin(first, env)))
        ):
            ctx.emit("sql-injection", node, f"{callee}() runs SQL built from a string")
        elif receiver and name in _SQL_TEXT_METHODS and self.is_tainted(first, env):
            ctx.emit("sql-injection", node, f"{callee}() runs SQL text taken from the request")
        shell = (not receiver and name in _SHELL and len(args) == 1) or _SHELL_CALLS.fullmatch(
            callee
        )
        if shell and (self.is_built(first, env) or self.is_tainted(first, env)):
            ctx.emit("command-injection", node, f"{callee}() runs a shell command built from data")
        if not receiver and name in ("redirect_to", "redirect") and self.is_tainted(first, env):
            ctx.emit("open-redirect", node, f"{name} sends the user to a URL from the request")
        if _HTTP_CLIENT.fullmatch(callee) and self.is_tainted(first, env):
            ctx.emit("ssrf", node, f"{callee}() fetches a URL taken from the request")
        if receiver == "JWT" and name in ("encode", "decode"):
            _check_jwt(node, name, args, options, ctx)
        if callee == "ENV.fetch" and len(args) > 1:
            fallback = _string_value(args[1])
            if first_value and secret_name(first_value) and fallback and fallback.strip():
                message = f"{first_value} falls back to a literal when the environment lacks it"
                ctx.emit("hardcoded-secret.env-fallback", node, message)

    def _check_mongo_filter(
        self, callee: str, first: Node | None, options: dict[str, Node], env: Env, ctx: FileContext
    ) -> None:
        """Request hashes as Mongo filters: ``where(params[:q])``, ``where(params.permit!)``,
        ``find_by(email: params[:email])`` (Rack turns ``email[$ne]=`` into a hash)."""
        if first is not None and first.type != "hash":
            if self.is_tainted(first, env) and not _scalar_cast(first) and not _string_node(first):
                message = f"{callee}() uses a hash from the request as its filter"
                ctx.emit_if("mongodb", "nosql-injection.operator", first, message)
            return
        pairs = first.named_children if first is not None else []
        entries = {
            _symbol(p.child_by_field_name("key")): p.child_by_field_name("value")
            for p in pairs
            if p.type == "pair"
        }
        entries.update(options)
        for key, value in entries.items():
            if key.strip("\"'").startswith("$") or value is None:  # $where has its own rule
                continue
            if self.is_tainted(value, env) and not _scalar_cast(value) and not _string_node(value):
                message = f"{callee}() filter takes {text(value)} unchecked from the request"
                ctx.emit_if("mongodb", "nosql-injection.operator", value, message)

    def _check_framework_settings(
        self, node: Node, receiver: str, name: str, args: list[Node], ctx: FileContext
    ) -> None:
        if receiver:
            return
        symbols = [_symbol(a) for a in args]
        if name in ("skip_forgery_protection",) or (
            name == "skip_before_action" and "verify_authenticity_token" in symbols
        ):
            ctx.emit("missing-csrf", node, f"{name} turns off CSRF protection in a controller")
        if name == "enable" and "sessions" in symbols:
            ctx.signals.add("sessions")
        if (
            name == "use"
            and args
            and text(args[0]) in ("Rack::Session::Cookie", "Rack::Session::Pool")
        ):
            ctx.signals.add("sessions")
        if (
            name == "use"
            and args
            and text(args[0]) in ("Rack::Protection::AuthenticityToken", "Rack::Csrf")
        ):
            ctx.signals.add("csrf")
        if name == "rate_limit":
            ctx.signals.add("rate-limit")
        if name == "origins" and "*" in [_string_value(a) for a in args]:
            block = node.parent
            while block is not None and block.type not in ("do_block", "block"):
                block = block.parent
            if block is not None and re.search(r"credentials(:|\s*=>)\s*true", text(block)):
                ctx.emit("cors", node, "rack-cors allows origins '*' together with credentials")

    def _check_assignment(self, node: Node, ctx: FileContext) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        target = text(left)
        production = ctx.path.endswith("config/environments/production.rb")
        if target.endswith(".consider_all_requests_local") and right.type == "true" and production:
            ctx.emit("debug-mode", node, "consider_all_requests_local = true in production")
        forgery = target.endswith("action_controller.allow_forgery_protection")
        deployed = not ctx.path.endswith(("test.rb", "development.rb"))
        if forgery and right.type == "false" and deployed:
            ctx.emit("missing-csrf", node, "allow_forgery_protection = false turns off CSRF")
        if target.endswith("action_dispatch.default_headers") and text(right).strip() == "{}":
            ctx.emit("missing-security-headers", node, "default_headers = {} removes the headers")
        name = _method(left) if left.type == "call" else target.lstrip("@")
        _check_secret(name, right, ctx)


def _fields(node: Node, name: str) -> list[Node]:
    child = node.child_by_field_name(name)
    return [child] if child is not None else []


def _method(call: Node) -> str:
    return text(call.child_by_field_name("method"))


def _arguments(call: Node) -> tuple[list[Node], dict[str, Node]]:
    args: list[Node] = []
    options: dict[str, Node] = {}
    arglist = call.child_by_field_name("arguments")
    for arg in arglist.named_children if arglist is not None else []:
        trailing_hash = arg.type == "hash" and bool(args)  # JWT.decode(t, k, true, { ... })
        pairs = arg.named_children if trailing_hash else [arg]
        if all(p.type == "pair" for p in pairs):
            for pair in pairs:
                value = pair.child_by_field_name("value")
                if value is not None:
                    options[_symbol(pair.child_by_field_name("key"))] = value
        elif arg.type != "comment":
            args.append(arg)
    return args, options


def _symbol(node: Node | None) -> str:
    """``:name``, ``name:`` and ``'name'`` all name ``name``."""
    if node is None:
        return ""
    value = _string_value(node)
    return value if value is not None else text(node).strip(":")


def _escaped(interpolation: Node) -> bool:
    """``#{id.to_i}``, ``#{path.shellescape}``, ``#{conn.quote(x)}``: nothing to inject."""
    value = interpolation.named_children[0] if interpolation.named_children else None
    return value is not None and value.type == "call" and _method(value) in _ESCAPES


def _string_value(node: Node) -> str | None:
    if node.type != "string" or any(c.type == "interpolation" for c in node.children):
        return None
    return "".join(
        text(c) for c in node.children if c.type in ("string_content", "escape_sequence")
    )


def _header_settings(node: Node) -> list[tuple[str, Node]]:
    """``headers["Name"] = v`` (also on ``response``), ``response.set_header("Name", v)`` and
    ``"Name" => v`` (Sinatra's ``headers``, Rack response hashes)."""
    name: str | None = None
    value: Node | None = None
    if node.type == "assignment":
        left = node.child_by_field_name("left")
        keys = [c for c in left.named_children if c.type != "comment"] if left is not None else []
        if left is not None and left.type == "element_reference" and len(keys) == 2:
            name, value = _string_value(keys[1]), node.child_by_field_name("right")
    elif node.type == "call" and _method(node) in ("set_header", "add_header"):
        args, _options = _arguments(node)
        if len(args) == 2:
            name, value = _string_value(args[0]), args[1]
    elif node.type == "pair":
        key = node.child_by_field_name("key")
        if key is not None:
            name, value = _string_value(key), node.child_by_field_name("value")
    return [(name.lower(), value)] if name and value is not None else []


def _string_node(value: Node) -> bool:
    """A string literal, interpolated or not, is never a hash of operators."""
    return value.type in _STRINGS


def _scalar_cast(value: Node) -> bool:
    """``params[:x].to_s``, ``String(x)``, ``params.permit(:a, :b)``: no hash gets through."""
    return value.type == "call" and _method(value) in _SCALAR_CASTS


def _literal(node: Node) -> bool:
    return all_literal(node, _literal_leaf, _CONTAINERS)


def _literal_leaf(node: Node) -> bool:
    return node.type in _LITERALS or _string_value(node) is not None


def _origin(node: Node, env: Env) -> str:
    return text(env.built.get(text(node), node))


def _check_secret(name: str, value: Node | None, ctx: FileContext) -> None:
    if value is None or not secret_name(name):
        return
    literal = _string_value(value)
    if literal is not None and secret_value(name, literal) and not token_format(literal):
        ctx.emit("hardcoded-secret", value, f"{name} is set to a literal secret")


def _check_env_fallback(node: Node, ctx: FileContext) -> None:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    operator = text(node.child_by_field_name("operator"))
    if left is None or right is None or operator not in ("||", "or"):
        return
    variable = re.fullmatch(r"ENV\[['\"](\w+)['\"]\]", text(left))
    fallback = _string_value(right)
    if variable and secret_name(variable.group(1)) and fallback and fallback.strip():
        message = f"{variable.group(1)} falls back to a literal when the environment lacks it"
        ctx.emit("hardcoded-secret.env-fallback", node, message)


def _check_jwt(
    node: Node, name: str, args: list[Node], options: dict[str, Node], ctx: FileContext
) -> None:
    if len(args) > 1 and _string_value(args[1]) is not None:
        ctx.emit("jwt-misuse.literal-key", args[1], f"JWT.{name} uses a literal key")
    algorithm = args[2] if name == "encode" and len(args) > 2 else options.get("algorithm")
    algorithms = " ".join(text(options[k]) for k in ("algorithm", "algorithms") if k in options)
    if name == "encode":
        if algorithm is not None and (_string_value(algorithm) or "").lower() == "none":
            ctx.emit("jwt-misuse.none-algorithm", node, "JWT.encode signs with 'none'")
        return
    verify = args[2] if len(args) > 2 else None
    if verify is not None and verify.type == "false":
        ctx.emit("jwt-misuse.verify-disabled", node, "JWT.decode is called with verify = false")
    elif not algorithms:
        ctx.emit("jwt-misuse.no-algorithms", node, "JWT.decode without an algorithm option")
    elif re.search(r"['\"]none['\"]", algorithms, re.IGNORECASE):
        ctx.emit("jwt-misuse.none-algorithm", node, "JWT.decode accepts 'none'")
    if text(options.get("verify_expiration")) == "false":
        ctx.emit("jwt-misuse.ignore-expiration", node, "JWT.decode skips the expiry check")
