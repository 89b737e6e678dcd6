"""Per-file facts for Go: package, imports, and each function's statements in a small form.

Statements: ``("set", [names], [exprs], line)``, ``("do", expr)``, ``("ret", [exprs])``,
``("if", condition, then statements, else statements)``.
Expressions: ``("s", text)``, ``("id", name)``, ``("sel", expr, field)``,
``("call", func, args, line)``, ``("fn", params, statements, line, upgrades)``,
``("+", left, right)``, ``("op", operator, left, right)`` for ``== != && ||``,
``("b", bool)``, ``("lit", type, {key: expr})``, ``("?", text)``.
``params`` are ``(name, type text)`` pairs; ``upgrades`` says the function upgrades the
connection to a WebSocket.
"""

from __future__ import annotations

import re
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.endpoints.go.packages import package_name
from backend_agent.analysis.parsing import node_text, parse

Expr = tuple[Any, ...]
_BLOCKS = (
    "block",
    "statement_list",
    "for_statement",
    "expression_switch_statement",
    "type_switch_statement",
    "select_statement",
    "expression_case",
    "default_case",
    "type_case",
    "communication_case",
    "labeled_statement",
)


# Only files importing one of these can register routes or serve WebSockets.
_ROUTING_IMPORTS = re.compile(
    rb'"(github\.com/(gin-gonic/gin|labstack/echo|go-chi/chi|gofiber/fiber|gorilla/mux|'
    rb"julienschmidt/httprouter|gorilla/websocket)|net/http|nhooyr\.io/websocket)"
)


_PACKAGE = re.compile(rb"^package\s+(\w+)", re.MULTILINE)
# Files that import no router package but may still pass routers along: ``package main``, and
# code that calls registration-like functions on values built elsewhere.
_PASSES_ROUTERS = re.compile(
    rb"^package\s+main\b|\.(?:Group|Mount|Route|Subrouter|PathPrefix|Routes|Handler)\(|"
    rb"\bRegister\w*\(|\bNew(?:Router|Server|App)\w*\(",
    re.MULTILINE,
)


def scan_go(source: bytes) -> dict[str, Any]:
    """Facts about one Go file (see the module docstring for the encoding).

    A file that imports no HTTP or router package and shows no sign of passing routers along
    cannot declare routes: it is not parsed, only its package name is recorded.
    """
    facts: dict[str, Any] = {"package": "", "imports": {}, "functions": [], "vars": []}
    if _ROUTING_IMPORTS.search(source) is None and _PASSES_ROUTERS.search(source) is None:
        package = _PACKAGE.search(source)
        facts["package"] = package.group(1).decode() if package else ""
        facts["vars"] = _string_constants(source)
        return facts
    root = parse(source, "go").root_node
    for node in root.named_children:
        if node.type == "package_clause" and node.named_children:
            facts["package"] = node_text(node.named_children[0])
        elif node.type == "import_declaration":
            for spec in descendants(node, "import_spec"):
                path_node = spec.child_by_field_name("path")
                name_node = spec.child_by_field_name("name")
                if path_node is not None:
                    path = _string(path_node)
                    alias = node_text(name_node) if name_node is not None else package_name(path)
                    facts["imports"][alias] = path
        elif node.type in ("function_declaration", "method_declaration"):
            facts["functions"].append(_function(node))
        elif node.type in ("var_declaration", "const_declaration"):
            facts["vars"].extend(_statements(node))
    return facts


# Parameters of request handlers: such a function serves a request, it registers no routes,
# so its body is not turned into statements (its WebSocket upgrade is still detected).
_HANDLER_PARAM = re.compile(
    r"^\*?(gin\.Context|echo\.Context|fiber\.Ctx|http\.ResponseWriter|http\.Request)$"
)
_MODULE = re.compile(rb"^module\s+(\S+)", re.MULTILINE)


# ``Name = "literal"`` at the start of a line: package-level string constants of files that
# are not parsed (a prefix such as ``APIPrefix = "/api"`` may live in a config package).
_STRING_CONSTANT = re.compile(
    rb'^(?:const\s+|var\s+|\t)?([A-Za-z_]\w*)\s*(?:string\s*)?=\s*"([^"\n]*)"', re.M
)


def _string_constants(source: bytes) -> list[Expr]:
    return [
        ("set", [m.group(1).decode()], [("s", m.group(2).decode("utf-8", "replace"))], 0)
        for m in _STRING_CONSTANT.finditer(source)
    ]


def scan_go_mod(source: bytes) -> dict[str, Any]:
    """A go.mod file: its module path (import paths below it map to its directory)."""
    found = _MODULE.search(source)
    return {"module": found.group(1).decode().strip('"') if found else ""}


def _function(node: Node) -> dict[str, Any]:
    receiver = node.child_by_field_name("receiver")
    receiver_type = receiver_name = ""
    if receiver is not None:
        for param in receiver.named_children:
            kind = param.child_by_field_name("type")
            receiver_type = node_text(kind).lstrip("*") if kind is not None else ""
            names = param.children_by_field_name("name")
            receiver_name = node_text(names[0]) if names else ""
    name = node.child_by_field_name("name")
    body = node.child_by_field_name("body")
    params = _params(node.child_by_field_name("parameters"))
    serves_requests = any(_HANDLER_PARAM.search(kind) for _, kind in params)
    statements = _statements(body) if body is not None and not serves_requests else []
    return {
        "name": node_text(name) if name is not None else "",
        "receiver": receiver_type,
        "receiver_name": receiver_name,
        "params": params,
        "body": statements,
        "line": node.start_point.row + 1,
        "upgrades": body is not None and _upgrades(body),
    }


def _params(node: Node | None) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for param in node.named_children if node is not None else []:
        kind = param.child_by_field_name("type")
        type_text = node_text(kind) if kind is not None else ""
        names = [c for c in param.children_by_field_name("name")]
        params.extend((node_text(n), type_text) for n in names) if names else params.append(
            ("_", type_text)
        )
    return params


def _statements(node: Node) -> list[Expr]:
    return _statement_list(node.named_children)


def _statement_list(nodes: list[Node]) -> list[Expr]:
    out: list[Expr] = []
    for child in nodes:
        kind = child.type
        line = child.start_point.row + 1
        if kind in ("short_var_declaration", "assignment_statement"):
            left, right = child.child_by_field_name("left"), child.child_by_field_name("right")
            if left is not None and right is not None:
                out.append(
                    (
                        "set",
                        [node_text(n) for n in left.named_children],
                        [expr(n) for n in right.named_children],
                        line,
                    )
                )
        elif kind in ("var_declaration", "var_spec_list", "const_declaration"):
            out.extend(_statements(child))
        elif kind in ("var_spec", "const_spec"):
            value = child.child_by_field_name("value")
            names = [node_text(n) for n in child.children_by_field_name("name")]
            if value is not None:
                out.append(("set", names, [expr(n) for n in value.named_children], line))
        elif kind in ("expression_statement", "go_statement", "defer_statement"):
            for inner in child.named_children:
                out.append(("do", expr(inner)))
        elif kind == "return_statement":
            values = child.named_children[0].named_children if child.named_children else []
            out.append(("ret", [expr(n) for n in values]))
        elif kind == "if_statement":
            condition = child.child_by_field_name("condition")
            consequence = child.child_by_field_name("consequence")
            alternative = child.child_by_field_name("alternative")
            out.append(
                (
                    "if",
                    expr(condition) if condition is not None else ("?", ""),
                    _statements(consequence) if consequence is not None else [],
                    _statement_list([alternative]) if alternative is not None else [],
                )
            )
        elif kind in _BLOCKS:
            out.extend(_statements(child))
    return out


def expr(node: Node) -> Expr:
    """The tagged-tuple form of a Go expression."""
    kind = node.type
    if kind in ("interpreted_string_literal", "raw_string_literal"):
        return ("s", _string(node))
    if kind in ("identifier", "field_identifier", "package_identifier", "type_identifier"):
        return ("id", node_text(node))
    if kind == "selector_expression":
        operand, field = node.child_by_field_name("operand"), node.child_by_field_name("field")
        if operand is not None and field is not None:
            return ("sel", expr(operand), node_text(field))
    if kind == "call_expression":
        func, arguments = (
            node.child_by_field_name("function"),
            node.child_by_field_name("arguments"),
        )
        args = [expr(a) for a in arguments.named_children] if arguments is not None else []
        return (
            "call",
            expr(func) if func is not None else ("?", ""),
            args,
            node.start_point.row + 1,
        )
    if kind == "func_literal":
        body = node.child_by_field_name("body")
        return (
            "fn",
            _params(node.child_by_field_name("parameters")),
            _statements(body) if body is not None else [],
            node.start_point.row + 1,
            body is not None and _upgrades(body),
        )
    if kind == "binary_expression":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        if left is not None and right is not None and operator is not None:
            symbol = node_text(operator)
            if symbol == "+":
                return ("+", expr(left), expr(right))
            if symbol in ("==", "!=", "&&", "||"):
                return ("op", symbol, expr(left), expr(right))
    if kind in ("true", "false"):
        return ("b", kind == "true")
    if kind in ("parenthesized_expression", "unary_expression") and node.named_children:
        return expr(node.named_children[-1])
    if kind == "composite_literal":
        return _composite(node)
    return ("?", node_text(node)[:80])


def _composite(node: Node) -> Expr:
    kind = node.child_by_field_name("type")
    body = node.child_by_field_name("body")
    fields: dict[str, Expr] = {}
    items: list[Expr] = []
    for element in body.named_children if body is not None else []:
        if element.type == "keyed_element" and len(element.named_children) == 2:
            key, value = element.named_children
            fields[node_text(key)] = expr(
                value.named_children[0] if value.named_children else value
            )
        elif element.type in ("literal_element", "element") and element.named_children:
            items.append(expr(element.named_children[0]))
    return ("lit", node_text(kind) if kind is not None else "", fields, items)


def _upgrades(body: Node) -> bool:
    """Whether a function body upgrades an HTTP connection to a WebSocket."""
    text = body.text or b""
    return b".Upgrade(" in text or b"websocket.Accept(" in text


def descendants(node: Node, kind: str) -> list[Node]:
    """The named nodes of type ``kind`` in ``node`` (itself included), in source order."""
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            found.append(current)
        stack.extend(reversed(current.named_children))
    return found


def _string(node: Node) -> str:
    text = node_text(node)
    if text[:1] in ('"', "`"):
        text = text[1:-1]
    return text
