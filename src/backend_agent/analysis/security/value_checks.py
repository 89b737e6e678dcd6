"""The checks on values: literal secrets and signing keys, secrets falling back to literals
when the environment lacks them, and request data in MongoDB filters."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.engine import Env, FileContext
from backend_agent.analysis.security.secrets import classify, secret_name, signing_key_name
from backend_agent.analysis.security.syntax import Call, Grammar

if TYPE_CHECKING:
    from backend_agent.analysis.security.base import RuleBase

# Option names that hold a signing key when given to a call (``session({secret: …})``).
_KEY_OPTIONS = frozenset({"secret", "secrets", "keys", "secretOrKey", "secretOrPrivateKey"})
_KEY_APIS = re.compile(r"(?i)session|cookie|jwt|passport|strategy|csrf|encrypt|cipher|sign|hmac")
_USER_MODEL = re.compile(r"(?i)(^|[.:\s])(user|account|customer|member|person|employee|admin)\w*")
_ARGUMENT_LISTS = frozenset({"argument_list", "arguments", "hash", "object", "dictionary"})
# A filter with these keys is a SQL ORM query (Sequelize, TypeORM, Prisma), not MongoDB's.
_ORM_QUERY_KEYS = frozenset({"where", "include", "attributes"})


def check_secret(rules: RuleBase, name: str, value: Node, ctx: FileContext) -> None:
    """A literal for a signing key is ``weak-secret``; for another secret-named value,
    ``hardcoded-secret`` unless it is a placeholder or a label. (Credential-shaped literals
    are reported wherever they stand, by the rule over string literals.)"""
    signing = signing_key_name(name) or (
        name in _KEY_OPTIONS and _call_option(value, rules.grammar)
    )
    for element in _literal_elements(value, rules.grammar) if signing else [value]:
        _report(rules, name, element, signing, ctx)


def check_key_arguments(rules: RuleBase, call: Call, ctx: FileContext) -> None:
    """A literal in the key position of a session store, cookie signer, HMAC or cipher."""
    for callee, position in rules.key_arguments:
        key = call.argument(position)
        if key is not None and callee.fullmatch(call.callee):
            _report(rules, f"the key of {call.callee}()", key, True, ctx)


def _report(rules: RuleBase, name: str, value: Node, signing: bool, ctx: FileContext) -> None:
    literal = rules.grammar.string_value(value)
    found = classify(name, literal, signing) if literal is not None else None
    if found is None or found[0] == "hardcoded-secret.token-format":
        return
    if found[0] == "hardcoded-secret" and _demo_record(value, rules.grammar):
        return
    ctx.emit(found[0], value, found[1])


def _demo_record(value: Node, grammar: Grammar) -> bool:
    """A password in a list of records or in a user being created (``[{user, password}]``,
    ``new User({password})``, ``User(password=…)``): demo or seed data, not a credential the
    code uses."""
    container = value.parent
    while container is not None and container.type in grammar.pairs:
        container = container.parent
    if container is None:
        return False
    holder = container.parent
    if holder is not None and holder.type in grammar.collections:
        return True
    while holder is not None and holder.type not in grammar.calls:
        if holder.type not in _ARGUMENT_LISTS:
            return False
        holder = holder.parent
    return holder is not None and bool(_USER_MODEL.search(grammar.callee(holder)))


def check_env_read(rules: RuleBase, call: Call, ctx: FileContext) -> None:
    if rules.env_reads is None or not rules.env_reads.fullmatch(call.callee):
        return
    variable = rules.grammar.string_value(call.argument(0))
    fallback = rules.grammar.string_value(call.argument(1, "default"))
    if variable and secret_name(variable) and fallback and fallback.strip():
        message = f"{variable} falls back to a literal when the environment does not set it"
        ctx.emit("hardcoded-secret.env-fallback", call.node, message)


def check_env_expression(rules: RuleBase, node: Node, ctx: FileContext) -> None:
    """``process.env.X || 'literal'``, ``ENV['X'] || 'literal'``."""
    operator = node_text(node.child_by_field_name("operator"))
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if rules.env_expression is None or operator not in ("||", "??", "or") or left is None:
        return
    variable = rules.env_expression.fullmatch(node_text(left))
    name = next((g for g in variable.groups() if g), None) if variable else None
    fallback = rules.grammar.string_value(right)
    if name and secret_name(name) and fallback and fallback.strip():
        message = f"{name} falls back to a literal when the environment does not set it"
        ctx.emit("hardcoded-secret.env-fallback", node, message)


def check_where(rules: RuleBase, pair: Node, ctx: FileContext) -> None:
    """``{$where: "this.a == '" + x + "'"}``: MongoDB runs the string as JavaScript."""
    key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
    if key is None or value is None or rules.key_name(key) != "$where":
        return
    if not rules.constant(value):
        message = "a $where clause is built from data"
        ctx.emit_if("mongodb", "nosql-injection.where", pair, message)


def check_mongo(rules: RuleBase, call: Call, env: Env, ctx: FileContext) -> None:
    """Request data as a MongoDB filter, whole or as a value (``{name: req.body.name}``
    takes ``{"$ne": null}`` as well as a string). Only in projects using MongoDB."""
    query = call.argument(0)
    if query is not None and query.type not in rules.grammar.collections:
        if rules.whole_filter(query, env):
            message = f"{call.callee}() uses request data as its whole filter"
            ctx.emit_if("mongodb", "nosql-injection.operator", query, message)
        return
    entries = rules.filter_entries(call, query)
    if any(key in _ORM_QUERY_KEYS for key, _value in entries):
        return
    for key, value in entries:
        if key.startswith("$") or rules.safe_filter_value(value):  # $where: its own rule
            continue
        if rules.is_tainted(value, env):
            message = f"{call.callee}() filter takes {node_text(value)} unchecked from the request"
            ctx.emit_if("mongodb", "nosql-injection.operator", value, message)


def _literal_elements(value: Node, grammar: Grammar) -> list[Node]:
    """The value itself, or the elements of a list of keys (``keys: ['a', 'b']``)."""
    if value.type in grammar.collections:
        return [c for c in value.named_children if grammar.string_value(c) is not None]
    return [value]


def _call_option(value: Node, grammar: Grammar) -> bool:
    """Whether ``value`` is given as an option to a session, cookie, token or crypto API
    (``session({secret: value})``, ``use Rack::Session::Cookie, secret: value``)."""
    current = value.parent
    for _ in range(4):
        if current is None:
            return False
        if current.type in grammar.calls:
            arguments = current.child_by_field_name("arguments")
            first = arguments.named_children[0] if arguments and arguments.named_children else None
            return bool(_KEY_APIS.search(grammar.callee(current) + " " + node_text(first)[:80]))
        current = current.parent
    return False
