"""Per-file facts for Python web frameworks: imports, assignments, classes, functions, calls.

Expressions are kept as small tagged tuples (picklable, path-independent) so that the
resolver can evaluate them later against other files:
``("s", text)`` string, ``("n", name)``, ``("a", base, attr)``, ``("c", func, args, kwargs,
line)``, ``("l", items)``, ``("d", {key: value})``, ``("j", parts)`` concatenation,
``("k", literal)`` other constants, ``("?", source)`` anything else.
"""

from __future__ import annotations

import re
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text, parse

Expr = tuple[Any, ...]
Facts = dict[str, Any]  # one file's scan facts, or one class's or function's part of them

# Method calls worth remembering wherever they appear (registration of routes and mounts).
REGISTRATION_CALLS = frozenset(
    {
        "include_router",
        "mount",
        "add_api_route",
        "add_api_websocket_route",
        "add_route",
        "add_websocket_route",
        "register_blueprint",
        "add_url_rule",
        "register",
        "add_resource",
        "add_namespace",
        "add_get",
        "add_post",
        "add_put",
        "add_patch",
        "add_delete",
        "add_head",
        "add_view",
        "add_routes",
        "add_subapp",
        "append",
        "extend",
        "use",
        "add_middleware",
        "route",
        "before_request",
    }
)


# Only files importing a web or GraphQL framework register routes inside function bodies;
# in the others, function bodies are not walked (their signatures and decorators still are).
_FRAMEWORK_IMPORT = re.compile(
    rb"^\s*(?:from|import)\s+(?:fastapi|flask|quart|starlette|aiohttp|django|rest_framework|"
    rb"graphene|strawberry|flask_restful|flask_restx)\b",
    re.MULTILINE,
)
# Files that can matter at all: frameworks, dependencies, settings, URLconfs, environment.
_RELEVANT = re.compile(
    rb"fastapi|flask|quart|starlette|aiohttp|django|rest_framework|graphene|strawberry|"
    rb"Depends|Security|Settings|Config|settings|config|environ|getenv|urlpatterns|"
    rb"REST_FRAMEWORK|ROOT_URLCONF|router|Router|blueprint|Blueprint"
)
# What an irrelevant file still offers: module-level string constants (``PREFIX = "/api"``).
_CONSTANT = re.compile(
    rb"^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=\s*[rRuU]?([\"'])([^\"'\\\n]*)\2\s*(?:#.*)?$", re.MULTILINE
)


ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "route", "api_route",
     "websocket", "websocket_route"}
)  # fmt: skip


def scan_python(source: bytes) -> dict[str, Any]:
    """Facts about one Python file (see the module docstring for the expression encoding).

    A file that mentions no framework, dependency, settings or URLconf is not parsed: only its
    module-level string constants are recorded (they may be prefixes imported elsewhere).
    """
    if _RELEVANT.search(source) is None:
        return constant_facts(source)
    bodies = _FRAMEWORK_IMPORT.search(source) is not None
    return tree_facts(parse(source, "python").root_node, bodies)


def _empty_facts() -> dict[str, Any]:
    return {
        "imports": {},  # local name -> (level, module, name or None)
        "roots": set(),  # top-level packages imported (fastapi, flask, django, ...)
        "assigns": {},  # scope -> {name: expr}
        "extends": {},  # scope -> {name: [expr]} from += / append / extend
        "classes": {},  # name -> class facts
        "functions": {},  # name -> function facts
        "calls": [],  # (scope, expr) registration calls in statement position
    }


def constant_facts(source: bytes) -> dict[str, Any]:
    """The facts of a file read without parsing: its module-level string constants only."""
    facts = _empty_facts()
    constants = {m.group(1).decode(): ("s", m.group(3).decode("utf-8", "replace"))
                 for m in _CONSTANT.finditer(source)}  # fmt: skip
    if constants:
        facts["assigns"][""] = constants
    facts["roots"] = []
    return facts


def tree_facts(root: Node, bodies: bool) -> dict[str, Any]:
    """The facts of a parsed module (what ``Names`` resolves against); ``bodies`` says whether
    assignments and registration calls inside top-level function bodies are recorded too."""
    facts = _empty_facts()
    facts["bodies"] = bodies
    _walk_block(root, "", facts)
    facts["roots"] = sorted(facts["roots"])
    del facts["bodies"]
    return facts


def _walk_block(node: Node, scope: str, facts: dict[str, Any]) -> None:
    for child in node.named_children:
        _walk_statement(child, scope, facts)


def _walk_statement(node: Node, scope: str, facts: dict[str, Any]) -> None:
    kind = node.type
    if kind in ("import_statement", "import_from_statement"):
        _record_import(node, facts)
    elif kind == "expression_statement":
        for child in node.named_children:
            _record_expression_statement(child, scope, facts)
    elif kind == "decorated_definition":
        decorators = [
            expr(d.named_children[0]) for d in node.named_children if d.type == "decorator"
        ]
        definition = node.child_by_field_name("definition")
        if definition is not None:
            _record_definition(definition, decorators, scope, facts)
    elif kind in ("function_definition", "class_definition"):
        _record_definition(node, [], scope, facts)
    elif kind in (
        "if_statement",
        "try_statement",
        "with_statement",
        "for_statement",
        "block",
        "else_clause",
        "elif_clause",
        "except_clause",
        "finally_clause",
        "while_statement",
    ):
        for child in node.named_children:
            if child.type in (
                "block",
                "else_clause",
                "elif_clause",
                "except_clause",
                "finally_clause",
            ):
                _walk_block(child, scope, facts)


def _record_import(node: Node, facts: dict[str, Any]) -> None:
    imports = facts["imports"]
    if node.type == "import_statement":
        for item in node.named_children:
            dotted, alias = _aliased(item)
            facts["roots"].add(dotted.split(".")[0])
            if alias:
                imports[alias] = (0, dotted, None)
            else:
                imports[dotted.split(".")[0]] = (0, dotted.split(".")[0], None)
        return
    module_node = node.child_by_field_name("module_name")
    if module_node is None:
        return
    module_text = node_text(module_node)
    level = len(module_text) - len(module_text.lstrip("."))
    module = module_text.lstrip(".")
    if level == 0 and module:
        facts["roots"].add(module.split(".")[0])
    for item in node.children_by_field_name("name"):
        name, alias = _aliased(item)
        imports[alias or name] = (level, module, name)


def _aliased(node: Node) -> tuple[str, str | None]:
    if node.type == "aliased_import":
        name = node.child_by_field_name("name")
        alias = node.child_by_field_name("alias")
        return node_text(name) if name else "", node_text(alias) if alias else None
    return node_text(node), None


def _record_expression_statement(node: Node, scope: str, facts: dict[str, Any]) -> None:
    if node.type == "assignment":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and right is not None and left.type in ("identifier", "attribute"):
            facts["assigns"].setdefault(scope, {})[node_text(left)] = expr(right)
        elif left is not None and left.type == "identifier" and right is None:
            typed = node.child_by_field_name("type")
            if typed is not None:
                facts["assigns"].setdefault(scope, {}).setdefault(node_text(left), ("?", ""))
    elif node.type == "augmented_assignment":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and right is not None and left.type == "identifier":
            facts["extends"].setdefault(scope, {}).setdefault(node_text(left), []).append(
                expr(right)
            )
    elif node.type == "call":
        callee = node.child_by_field_name("function")
        attribute = callee.child_by_field_name("attribute") if callee is not None else None
        if attribute is None or node_text(attribute) not in REGISTRATION_CALLS:
            return
        call = expr(node)
        func = call[1]
        if func[0] == "a":
            if func[2] in ("append", "extend") and func[1][0] == "n" and call[2]:
                items = call[2] if func[2] == "append" else [call[2][0]]
                bucket = facts["extends"].setdefault(scope, {}).setdefault(func[1][1], [])
                bucket.extend(("l", [item]) if func[2] == "append" else item for item in items)
            else:
                facts["calls"].append((scope, call))


def _record_definition(
    node: Node, decorators: list[Expr], scope: str, facts: dict[str, Any]
) -> None:
    name_node = node.child_by_field_name("name")
    if name_node is None:
        return
    name = node_text(name_node)
    line = node.start_point.row + 1
    if node.type == "class_definition":
        facts["classes"][name] = _class_facts(node, decorators, line)
        return
    facts["functions"].setdefault(name, _function_facts(node, decorators, scope, line))
    body = node.child_by_field_name("body")
    if body is not None and facts["bodies"] and not _is_route_handler(decorators):
        _walk_block(body, name, facts)


def _is_route_handler(decorators: list[Expr]) -> bool:
    """A function decorated as a route serves requests; it registers none (its body is
    not worth walking)."""
    return any(d[0] == "c" and d[1][0] == "a" and d[1][2] in ROUTE_DECORATORS for d in decorators)


def _function_facts(node: Node, decorators: list[Expr], scope: str, line: int) -> dict[str, Any]:
    params = node.child_by_field_name("parameters")
    deps: list[Expr] = []
    names: list[str] = []
    annotations: list[Expr] = []
    if params is not None:
        for param in params.named_children:
            first = param.named_children[0] if param.named_children else param
            if first.type == "identifier":
                names.append(node_text(first))
            _collect_depends(param, deps)
            kind = param.child_by_field_name("type")
            if kind is not None and kind.named_children:
                annotation = kind.named_children[0]
                if annotation.type in ("identifier", "attribute"):
                    annotations.append(expr(annotation))
    return {
        "line": line,
        "scope": scope,
        "decorators": decorators,
        "deps": deps,
        "annotations": annotations,  # named types: may be Annotated[..., Depends(...)] aliases
        "params": names,
        "async": node.children[0].type == "async" if node.children else False,
    }


def _collect_depends(node: Node, deps: list[Expr]) -> None:
    """Every ``Depends(x)`` / ``Security(x)`` argument inside a parameter (default or Annotated)."""
    if node.type == "call":
        func = node.child_by_field_name("function")
        if func is not None and node_text(func).rsplit(".", 1)[-1] in ("Depends", "Security"):
            deps.append(expr(node))
            return
    for child in node.named_children:
        _collect_depends(child, deps)


def _class_facts(node: Node, decorators: list[Expr], line: int) -> dict[str, Any]:
    bases = node.child_by_field_name("superclasses")
    facts: dict[str, Any] = {
        "line": line,
        "decorators": decorators,
        "bases": [expr(b) for b in bases.named_children if b.type != "keyword_argument"]
        if bases is not None
        else [],
        "attrs": {},
        "methods": {},
    }
    body = node.child_by_field_name("body")
    for child in body.named_children if body is not None else []:
        definition, decos = child, []
        if child.type == "decorated_definition":
            decos = [
                expr(d.named_children[0]) for d in child.named_children if d.type == "decorator"
            ]
            definition = child.child_by_field_name("definition") or child
        if definition.type == "function_definition":
            method_name = definition.child_by_field_name("name")
            if method_name is not None:
                facts["methods"][node_text(method_name)] = _function_facts(
                    definition, decos, "", definition.start_point.row + 1
                )
        elif child.type == "expression_statement" and child.named_children:
            statement = child.named_children[0]
            if statement.type == "assignment":
                left = statement.child_by_field_name("left")
                right = statement.child_by_field_name("right")
                if left is not None and left.type == "identifier":
                    value = expr(right) if right is not None else ("?", "")
                    facts["attrs"][node_text(left)] = (value, statement.start_point.row + 1)
    return facts


def expr(node: Node) -> Expr:
    """The tagged-tuple form of an expression node."""
    kind = node.type
    if kind == "string":
        return _string(node)
    if kind == "concatenated_string":
        return _join([_string(part) for part in node.named_children])
    if kind == "identifier":
        return ("n", node_text(node))
    if kind == "attribute":
        obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
        if obj is not None and attr is not None:
            return ("a", expr(obj), node_text(attr))
    if kind == "call":
        return _call(node)
    if kind in ("list", "tuple", "set", "expression_list", "list_splat"):
        return ("l", [expr(c) for c in node.named_children if c.type != "comment"])
    if kind == "parenthesized_expression" and node.named_children:
        return expr(node.named_children[0])
    if kind == "dictionary":
        entries: dict[str, Expr] = {}
        for pair in node.named_children:
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if pair.type == "pair" and key is not None and value is not None:
                key_expr = expr(key)
                if key_expr[0] == "s":
                    entries[key_expr[1]] = expr(value)
        return ("d", entries)
    if kind == "binary_operator":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        if left and right and operator is not None and node_text(operator) == "+":
            return _join([expr(left), expr(right)])
    if kind in ("subscript", "generic_type"):
        value = node.child_by_field_name("value") or (
            node.named_children[0] if node.named_children else None
        )
        items = [c for c in node.named_children if c is not value and c.type != "comment"]
        flat: list[Node] = []
        for item in items:
            flat.extend(
                item.named_children
                if item.type in ("type_parameter", "tuple", "expression_list")
                else [item]
            )
        return (
            "sub",
            expr(value) if value is not None else ("?", ""),
            [expr(_unwrap_type(i)) for i in flat],
        )
    if kind in ("true", "false", "none", "integer", "float"):
        return ("k", node_text(node))
    if kind == "keyword_argument":
        value = node.child_by_field_name("value")
        return expr(value) if value is not None else ("?", "")
    return ("?", node_text(node)[:80])


def _unwrap_type(node: Node) -> Node:
    """``type`` nodes wrap the expression they annotate with."""
    return node.named_children[0] if node.type == "type" and node.named_children else node


def _call(node: Node) -> Expr:
    func = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    args: list[Expr] = []
    kwargs: dict[str, Expr] = {}
    for arg in arguments.named_children if arguments is not None else []:
        if arg.type == "keyword_argument":
            name, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
            if name is not None and value is not None:
                kwargs[node_text(name)] = expr(value)
        elif arg.type != "comment":
            args.append(expr(arg))
    return (
        "c",
        expr(func) if func is not None else ("?", ""),
        args,
        kwargs,
        node.start_point.row + 1,
    )


def _string(node: Node) -> Expr:
    parts: list[Expr] = []
    for child in node.named_children:
        if child.type == "string_content":
            parts.append(("s", node_text(child)))
        elif child.type == "interpolation" and child.named_children:
            parts.append(expr(child.named_children[0]))
        elif child.type == "escape_sequence":
            parts.append(("s", node_text(child)))
    return _join(parts)


def _join(parts: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for part in parts:
        flat.extend(part[1] if part[0] == "j" else [part])
    merged: list[Expr] = []
    for part in flat:
        if part[0] == "s" and merged and merged[-1][0] == "s":
            merged[-1] = ("s", merged[-1][1] + part[1])
        else:
            merged.append(part)
    if not merged:
        return ("s", "")
    return merged[0] if len(merged) == 1 else ("j", merged)
