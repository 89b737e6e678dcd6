"""The checks on calls: sinks (and the wrappers and calls that carry data to them from
another function), where rate limiters are applied, and how JWTs are signed and verified."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.engine import Env, FileContext, Passing, Wrapper, descendants
from backend_agent.analysis.security.sinks import MESSAGES, SQL_TEXT, Sink
from backend_agent.analysis.security.syntax import Call, Grammar

if TYPE_CHECKING:
    from backend_agent.analysis.security.base import RuleBase

# Rate limiters by name: ``rateLimit(…)``, ``loginLimiter``, ``@Throttle()``, ``rate_limit``.
_LIMITER = re.compile(
    r"(?i)rate[-_]?limit|limiter|throttl|slow[-_]?down|brute|httprate|tollbooth|slowapi"
)
_MOUNTS = frozenset({"use", "register", "Use", "throttle", "Group", "Route", "Mount", "mount"})
_CLASS_BODIES = frozenset({"class_declaration", "class", "class_definition", "class_body"})
# A string that starts with one slash (not two): a path on this site, whatever follows.
_LOCAL_PATH = re.compile(r"[fFrRbB]*[\"'`]/(?![/\\])")
# Names too common to tie a call to a wrapper function defined elsewhere.
_COMMON_NAMES = frozenset(
    {
        "run", "execute", "exec", "call", "send", "get", "post", "put", "query", "open",
        "load", "parse", "eval", "render", "write", "read", "handle", "process", "apply",
        "main", "new", "init", "create", "update", "delete", "find", "save", "format", "join",
        "push", "append", "log", "print", "json", "map", "filter", "then", "catch", "next",
    }
)  # fmt: skip


@dataclass(frozen=True)
class JwtUse:
    """One JWT sign or verify call, read the same way in every language."""

    node: Node
    label: str  # "jwt.decode", "JWT.encode", "jwt.ParseWithClaims"
    signing: bool
    key: Node | None = None  # the key argument (a literal one is reported)
    algorithms: Node | None = None  # the signing algorithm, or the accepted list
    pinned: bool = True  # verification restricts the accepted algorithms
    verify_off: bool = False
    ignore_expiration: bool = False


def check_sinks(rules: RuleBase, call: Call, env: Env, ctx: FileContext) -> None:
    """The first sink of each rule that the call feeds with what it must not take."""
    fired: set[str] = set()
    for sink in rules.sinks:
        if sink.rule in fired or not sink.callee.fullmatch(call.callee):
            continue
        if sink.when is not None and not sink.when(call):
            continue
        if sink.client and (call.target is None or not rules.is_client(call.target, env)):
            continue
        values = call.args if sink.where == ("*",) else [call.argument(*sink.where)]
        for value in values:
            if sink.rule == "ssrf" and value is not None:
                value = rules.url_of(value)
            if (
                sink.rule == "open-redirect"
                and value is not None
                and _LOCAL_PATH.match(node_text(value))
            ):
                continue  # "/login?next=" + x stays on this site
            kind = _carries(rules, sink, value, env)
            if kind is not None:
                template = MESSAGES.get(f"{sink.rule}.{kind}", MESSAGES[sink.rule])
                ctx.emit(sink.rule, call.node, template.format(callee=call.callee))
                fired.add(sink.rule)
                break
            if value is not None and sink.rule not in fired:
                _record_wrapper(rules, sink, value, env, ctx)


def _record_wrapper(rules: RuleBase, sink: Sink, value: Node, env: Env, ctx: FileContext) -> None:
    """A parameter reaching a sink makes the function a wrapper of that sink."""
    if not env.function or sink.data in ("any", "built"):
        return
    names = [node_text(n) for n in descendants(value) if n.type in rules.grammar.identifiers]
    index = next((env.parameters[n] for n in names if n in env.parameters), None)
    if index is not None:
        line = value.start_point[0] + 1
        ctx.wrappers.append(Wrapper(env.function, index, sink.rule, sink.data, ctx.path, line))


def record_passings(rules: RuleBase, call: Call, env: Env, ctx: FileContext) -> None:
    """Calls handing request data or built strings to some function, for the wrappers."""
    if call.name in _COMMON_NAMES:
        return
    for index, argument in enumerate(call.args):
        kind = "tainted" if rules.is_tainted(argument, env) else None
        if kind is None and rules.is_built(argument, env):
            kind = "built"
        if kind is not None:
            origin = node_text(env.built.get(node_text(argument), argument))[:300]
            line = call.node.start_point[0] + 1
            passing = Passing(call.name, index, kind, call.callee, origin, line)
            ctx.passings.append(passing)


def _carries(rules: RuleBase, sink: Sink, value: Node | None, env: Env) -> str | None:
    """What makes ``value`` dangerous at this sink ("built", "tainted", "any"), if it is."""
    if value is None:
        return None
    if sink.data == "any":
        return "any"
    if sink.data in ("built", "built-sql", "either") and rules.is_built(value, env):
        origin = env.built.get(node_text(value), value)
        if sink.data != "built-sql" or SQL_TEXT.search(node_text(origin)):
            return "built"
    if sink.data in ("tainted", "either") and value.type not in rules.grammar.collections:
        return "tainted" if rules.is_tainted(value, env) else None
    return None


def record_limiter(rules: RuleBase, call: Call, ctx: FileContext) -> None:
    """Where rate limiters are applied: lines of the file, route prefixes, the whole
    application (``app.use(limiter)``) or a whole controller (a class decorator)."""
    named = [call.callee] + [node_text(a) for a in call.args if len(node_text(a)) < 120]
    if not any(_LIMITER.search(n) for n in named):
        return
    first, last = call.node.start_point[0] + 1, call.node.end_point[0] + 1
    ctx.limited_lines.update(range(first, last + 1))
    paths = [
        value
        for found in descendants(call.node)
        if (value := rules.grammar.string_value(found)) and value.startswith("/")
    ]
    if call.name in _MOUNTS and paths:
        ctx.limited_paths.update(paths)
    elif call.name in _MOUNTS and "global: false" not in node_text(call.node):
        ctx.signals.update({"rate-limit", "rate-limit.global"})
    scope = call.node.parent
    while scope is not None and scope.type not in rules.scope_types:
        if scope.type in _CLASS_BODIES:
            ctx.signals.add("rate-limit.file")
            break
        scope = scope.parent


def check_jwt(rules: RuleBase, use: JwtUse, ctx: FileContext) -> None:
    """Literal keys, 'none', unverified signatures, unpinned algorithms, ignored expiry."""
    g = rules.grammar
    if use.key is not None and g.string_value(use.key) is not None:
        ctx.emit("jwt-misuse.literal-key", use.key, f"{use.label}() uses a literal key")
    algorithms = [] if use.algorithms is None else _strings_in(use.algorithms, g)
    accepts_none = any(a.lower() == "none" for a in algorithms)
    if use.signing:
        if accepts_none:
            ctx.emit("jwt-misuse.none-algorithm", use.node, f"{use.label}() signs with none")
        return
    if use.verify_off:
        message = f"{use.label}() skips signature verification"
        ctx.emit("jwt-misuse.verify-disabled", use.node, message)
    elif not use.pinned:
        message = f"{use.label}() accepts any signing algorithm"
        ctx.emit("jwt-misuse.no-algorithms", use.node, message)
    elif accepts_none:
        ctx.emit("jwt-misuse.none-algorithm", use.node, f"{use.label}() accepts 'none'")
    if use.ignore_expiration:
        message = f"{use.label}() does not check expiry"
        ctx.emit("jwt-misuse.ignore-expiration", use.node, message)


def _strings_in(node: Node, grammar: Grammar) -> list[str]:
    stack, found = [node], []
    while stack:
        current = stack.pop()
        value = grammar.string_value(current)
        if value is not None:
            found.append(value)
        else:
            stack.extend(current.children)
    return found
