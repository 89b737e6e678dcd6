"""Ruby's tables for the shared rules: Rails, Sinatra, Grape, Hanami, Roda and the libraries
they call, plus their framework settings (CSRF, debug pages, rate limits)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.base import RuleBase
from backend_agent.analysis.security.call_checks import JwtUse
from backend_agent.analysis.security.engine import Env, FileContext
from backend_agent.analysis.security.syntax import Call, Grammar

GRAMMAR = Grammar(
    scopes=frozenset({"method", "singleton_method", "block", "do_block", "lambda"}),
    identifiers=frozenset({"identifier", "instance_variable"}),
    calls=frozenset({"call"}),
    strings=frozenset({"string", "subshell"}),
    commands=frozenset({"subshell"}),
    string_parts=frozenset({"string_content", "escape_sequence"}),
    interpolations=frozenset({"interpolation"}),
    binaries=frozenset({"binary"}),
    parentheses=frozenset({"parenthesized_statements"}),
    literals=frozenset({"integer", "float", "true", "false", "nil", "simple_symbol"}),
    containers=frozenset({"binary", "array", "parenthesized_statements"}),
    collections=frozenset({"hash", "array"}),
    functions=frozenset(),
    pairs={"pair": "value"},
    conditionals=frozenset({"conditional"}),
    format_operator=True,
)
_SOURCE = re.compile(
    r"request\.(params|query_parameters|request_parameters|body|headers|query_string|referer|"
    r"referrer|origin|raw_post)\b|request\.env\[['\"]HTTP_"
)
_SANITIZERS = frozenset({"to_i", "to_f", "to_sym", "Integer", "Float", "url_for"})
_ESCAPES = _SANITIZERS | {"shellescape", "escape", "quote", "sanitize_sql"}
_ASSIGNMENTS = {"assignment": ("left", "right")}
_APPS = {
    "Rails::Application": "rails", "Sinatra::Base": "sinatra", "Sinatra::Application": "sinatra",
    "Grape::API": "grape", "Roda": "roda", "Hanami::App": "hanami",
    "Hanami::Application": "hanami",
}  # fmt: skip
# Sinatra settings that show backtraces to clients, unless set in a development block.
_SINATRA_DEBUG = frozenset({"show_exceptions", "dump_errors"})


class RubyRules(RuleBase):
    """The shared rules over Ruby's grammar."""

    family = "ruby"
    grammar = GRAMMAR
    extra_nodes = frozenset({"class", "scope_resolution", "method"})
    assignments = _ASSIGNMENTS
    header_nodes = frozenset({"call", "assignment", "pair"})
    header_setters = frozenset({"set_header", "add_header"})
    sources = _SOURCE
    source_types = frozenset({"call"})
    source_names = frozenset({"params", "cookies"})
    sanitizers = _SANITIZERS
    scalar_casts = frozenset(
        {"to_s", "to_i", "to_f", "to_sym", "String", "Integer", "Float", "from_string", "permit"}
    )

    def arguments(self, node: Node) -> tuple[list[Node], dict[str, Node]]:
        args: list[Node] = []
        options: dict[str, Node] = {}
        arglist = node.child_by_field_name("arguments")
        for arg in arglist.named_children if arglist is not None else []:
            trailing_hash = arg.type == "hash" and bool(args)  # JWT.decode(t, k, true, { … })
            pairs = arg.named_children if trailing_hash else [arg]
            if pairs and all(p.type == "pair" for p in pairs):
                options.update(self.pair_entries(pairs))
            elif arg.type != "comment":
                args.append(arg)
        return args, options

    def escaped(self, interpolation: Node) -> bool:
        """``#{id.to_i}``, ``#{path.shellescape}``, ``#{conn.quote(x)}``: nothing to inject."""
        value = interpolation.named_children[0] if interpolation.named_children else None
        return value is not None and value.type == "call" and _method(value) in _ESCAPES

    def named_values(self, node: Node) -> Iterable[tuple[str, Node]]:
        if node.type == "assignment":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None:
                yield (_method(left) if left.type == "call" else node_text(left).lstrip("@")), right
        elif node.type == "pair":
            key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
            if key is not None and value is not None:
                yield self.key_name(key), value
        elif node.type == "call" and _method(node) == "set" and not _receiver(node):
            args = self.arguments(node)[0]  # Sinatra: set :session_secret, "…"
            if len(args) == 2 and args[0].type == "simple_symbol":
                yield node_text(args[0]).lstrip(":"), args[1]

    def imports(self, node: Node) -> list[str]:
        if node.type != "call" or _receiver(node) or _method(node) not in ("require", "gem"):
            return []
        args = self.arguments(node)[0]
        value = GRAMMAR.string_value(args[0]) if args else None
        return [value] if value else []

    def subscript_key(self, target: Node | None) -> Node | None:
        """``headers["Name"] = v``, also on ``response``."""
        keys = [c for c in target.named_children if c.type != "comment"] if target else []
        if target is None or target.type != "element_reference" or len(keys) != 2:
            return None
        return keys[1]

    def jwt(self, call: Call) -> JwtUse | None:
        if call.receiver != "JWT" or call.name not in ("encode", "decode"):
            return None
        key = call.argument(1)
        if call.name == "encode":
            return JwtUse(call.node, call.callee, True, key, call.argument(2, "algorithm"))
        algorithms = [call.options[k] for k in ("algorithm", "algorithms") if k in call.options]
        verify = call.argument(2)
        return JwtUse(
            call.node,
            call.callee,
            False,
            key,
            algorithms[0] if algorithms else None,
            pinned=bool(algorithms),
            verify_off=verify is not None and verify.type == "false",
            ignore_expiration=node_text(call.options.get("verify_expiration")) == "false",
        )

    def whole_filter(self, query: Node, env: Env) -> bool:
        return self.is_tainted(query, env) and not self.safe_filter_value(query)

    def filter_entries(self, call: Call, query: Node | None) -> list[tuple[str, Node]]:
        return super().filter_entries(call, query) + list(call.options.items())

    def safe_filter_value(self, value: Node) -> bool:
        """``params[:x].to_s``, ``String(x)``, ``params.permit(:a, :b)``, a string literal
        (interpolated or not): no hash gets through."""
        return value.type in GRAMMAR.strings or super().safe_filter_value(value)

    def constant(self, value: Node) -> bool:
        return value.type == "constant" or super().constant(value)

    def check_language(self, node: Node, env: Env, ctx: FileContext) -> None:
        kind = node.type
        if kind == "assignment":
            _check_assignment(node, ctx)
        elif kind == "class":
            parent = node_text(node.child_by_field_name("superclass")).lstrip("<").strip()
            if parent in _APPS:
                ctx.app(_APPS[parent], node)
            if parent == "ActionController::Base":  # cookie sessions, unless an API
                ctx.signals.add("sessions")
        elif kind == "scope_resolution":
            if node_text(node) == "Rack::Attack":
                ctx.signals.add("rate-limit")
            elif node_text(node) in ("Mongoid::Document", "Mongo::Client"):
                ctx.signals.add("mongodb")
        elif kind == "method":
            ctx.definitions.add(node_text(node.child_by_field_name("name")))
        elif kind == "subshell" and self.is_built(node, env):
            ctx.emit("command-injection", node, "a backtick command is built from data")

    def check_language_call(self, call: Call, env: Env, ctx: FileContext) -> None:
        required = call.args and call.name in ("require", "gem") and not call.receiver
        if required and GRAMMAR.string_value(call.args[0]) == "sinatra":
            ctx.app("sinatra", call.node)
        if not call.receiver:
            _check_framework_call(call, ctx)
        version = node_text(call.args[0]) if call.name == "load_defaults" and call.args else ""
        if _version(version) >= (5, 2):
            ctx.signals.add("csrf")  # default_protect_from_forgery is on from Rails 5.2
        if call.name == "origins" and "*" in [GRAMMAR.string_value(a) for a in call.args]:
            block = call.node.parent
            while block is not None and block.type not in ("do_block", "block"):
                block = block.parent
            if block is not None and re.search(r"credentials(:|\s*=>)\s*true", node_text(block)):
                message = "rack-cors allows origins '*' together with credentials"
                ctx.emit("cors", call.node, message)


def _check_framework_call(call: Call, ctx: FileContext) -> None:
    """Rails and Sinatra settings made by a bare call in a class or configure block."""
    name, symbols = call.name, [node_text(a).lstrip(":") for a in call.args]
    if name == "skip_forgery_protection" or (
        name == "skip_before_action" and "verify_authenticity_token" in symbols
    ):
        ctx.emit("missing-csrf", call.node, f"{name} turns off CSRF protection in a controller")
    if name == "protect_from_forgery":
        ctx.signals.add("csrf")
    if name == "enable" and "sessions" in symbols:
        ctx.signals.add("sessions")
    middleware = node_text(call.args[0]) if call.args else ""
    if name == "use" and middleware in ("Rack::Session::Cookie", "Rack::Session::Pool"):
        ctx.signals.add("sessions")
    if name == "use" and middleware in ("Rack::Protection::AuthenticityToken", "Rack::Csrf"):
        ctx.signals.add("csrf")
    if name == "rate_limit":
        ctx.signals.add("rate-limit")
        if ctx.path.endswith("application_controller.rb"):
            ctx.signals.add("rate-limit.global")
    _check_debug_call(call, symbols, ctx)


def _check_debug_call(call: Call, symbols: list[str], ctx: FileContext) -> None:
    """Sinatra's exception page, Grape backtraces in responses, Roda's exception page."""
    development = _in_development_block(call.node) or ctx.path.endswith("development.rb")
    name = call.name
    shown = (name == "enable" and _SINATRA_DEBUG & set(symbols)) or (
        name == "set" and symbols[:1] and symbols[0] in _SINATRA_DEBUG and symbols[1:] == ["true"]
    )
    if shown and not development:
        ctx.emit("debug-mode", call.node, f"Sinatra {name} :{symbols[0]} shows backtraces")
    if name == "set" and symbols[:2] == ["environment", "development"] and not development:
        ctx.emit("debug-mode", call.node, "set :environment, :development in application code")
    if name == "rescue_from" and node_text(call.options.get("backtrace")) == "true":
        ctx.emit("debug-mode", call.node, "Grape rescue_from backtrace: true sends backtraces")
    if name == "plugin" and symbols[:1] == ["exception_page"] and not development:
        ctx.emit("debug-mode", call.node, "Roda's exception_page plugin shows backtraces")


def _check_assignment(node: Node, ctx: FileContext) -> None:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None:
        return
    target, value = node_text(left), right.type
    deployed = not ctx.path.endswith(("test.rb", "development.rb"))
    environment = "/environments/" in ctx.path and deployed
    if target.endswith(".consider_all_requests_local") and value == "true" and environment:
        name = ctx.path.rsplit("/", 1)[-1].removesuffix(".rb")
        ctx.emit(
            "debug-mode", node, f"consider_all_requests_local = true in the {name} environment"
        )
    if target.endswith(".render_detailed_errors") and value == "true" and deployed:
        ctx.emit("debug-mode", node, "Hanami render_detailed_errors = true outside development")
    forgery = target.endswith("action_controller.allow_forgery_protection")
    if forgery and value == "false" and deployed:
        ctx.emit("missing-csrf", node, "allow_forgery_protection = false turns off CSRF")
    if target.endswith("default_protect_from_forgery") and value == "true":
        ctx.signals.add("csrf")
    if target.endswith("action_dispatch.default_headers") and node_text(right).strip() == "{}":
        ctx.emit("missing-security-headers", node, "default_headers = {} removes the headers")


def _in_development_block(node: Node) -> bool:
    """Inside ``configure :development do … end`` (Sinatra) or ``if development?``."""
    parent = node.parent
    while parent is not None:
        if parent.type in ("do_block", "block") and parent.parent is not None:
            owner = node_text(parent.parent)
            if re.match(r"configure\s*\(?\s*:(development|test)", owner):
                return True
        condition = parent.child_by_field_name("condition")
        if condition is not None and re.search(r"development|test", node_text(condition)):
            return True
        parent = parent.parent
    return False


def _version(value: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", value)
    return tuple(int(p) for p in parts) if parts else (0,)


def _method(call: Node) -> str:
    return node_text(call.child_by_field_name("method"))


def _receiver(call: Node) -> str:
    return node_text(call.child_by_field_name("receiver"))
