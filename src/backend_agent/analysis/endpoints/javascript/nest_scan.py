"""NestJS in one file (phase one): controllers, resolvers and modules from class decorators;
global prefix, versioning, global guards, ``APP_GUARD`` providers, ``RouterModule`` and
``consumer.apply(...).forRoutes(...)`` from calls. ``nest`` resolves them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript.facts import (
    UNKNOWN,
    NestController,
    NestMiddleware,
    NestRoute,
    Value,
    describe,
)
from backend_agent.analysis.endpoints.javascript.syntax import decorator_name, line_of
from backend_agent.analysis.parsing import node_text

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.scan import Scanner

NEST_VERBS = {
    "Get": "GET", "Post": "POST", "Put": "PUT", "Patch": "PATCH", "Delete": "DELETE",
    "Options": "OPTIONS", "Head": "HEAD", "All": "ANY",
}  # fmt: skip
GRAPHQL_OPERATIONS = {"Query": "QUERY", "Mutation": "MUTATION", "Subscription": "SUBSCRIPTION"}


def method_route(
    scanner: Scanner,
    class_decorators: list[Node],
    decorators: list[Node],
    class_name: str,
    member: Node,
) -> NestRoute | None:
    """A controller method's route (``@Get('x')``) or a resolver's field (``@Query()``)."""
    method = node_text(member.child_by_field_name("name"))
    handler = f"{class_name}.{method}"
    if any(decorator_name(node_text(d)) == "Resolver" for d in class_decorators):
        return _resolver_field(scanner, decorators, handler, method, member)
    by_name = {decorator_name(node_text(d)): d for d in decorators}
    version_args = scanner.decorator_args(by_name["Version"]) if "Version" in by_name else ()
    for name, decorator in by_name.items():
        if name in NEST_VERBS:
            texts = tuple(node_text(d) for d in decorators)
            path = _path_arg(scanner, decorator)
            version = version_args[0] if version_args else None
            return NestRoute((NEST_VERBS[name],), path, texts, handler, line_of(member), version)
    return None


def _resolver_field(
    scanner: Scanner, decorators: list[Node], handler: str, method: str, node: Node
) -> NestRoute | None:
    """``@Query(() => [Cat], {name: 'cats'})`` in a ``@Resolver()``: one GraphQL field."""
    for decorator in decorators:
        kind = GRAPHQL_OPERATIONS.get(decorator_name(node_text(decorator)))
        if kind is None:
            continue
        options = [a for a in scanner.decorator_args(decorator) if a[0] == "obj"]
        field: Value = ("str", method)
        if options:
            field = dict(options[0][1]).get("name", field)
        texts = tuple(node_text(d) for d in decorators)
        return NestRoute((kind,), field, texts, handler, line_of(node))
    return None


def class_facts(
    scanner: Scanner, name: str, decorators: list[Node], routes: list[NestRoute], node: Node
) -> None:
    """``@Controller``, ``@Resolver`` and ``@Module`` classes."""
    by_name = {decorator_name(node_text(d)): d for d in decorators}
    texts = tuple(node_text(d) for d in decorators)
    if "Resolver" in by_name:
        scanner.facts.controllers.append(
            NestController(name, ("str", ""), texts, tuple(routes), line_of(node), graphql=True)
        )
    if "Controller" in by_name:
        controller = by_name["Controller"]
        scanner.facts.controllers.append(
            NestController(
                name,
                _path_arg(scanner, controller),
                texts,
                tuple(routes),
                line_of(node),
                _option_arg(scanner, controller, "version"),
            )
        )
    if "Module" in by_name:
        controllers = _option_arg(scanner, by_name["Module"], "controllers")
        if controllers is not None:
            scanner.facts.nest_modules.append((name, controllers))


def _option_arg(scanner: Scanner, decorator: Node, option: str) -> Value | None:
    """A field of a decorator's options object, e.g. ``@Controller({version: '1'})``."""
    args = scanner.decorator_args(decorator)
    return dict(args[0][1]).get(option) if args and args[0][0] == "obj" else None


def _path_arg(scanner: Scanner, decorator: Node) -> Value:
    """The path argument of ``@Controller(...)`` or ``@Get(...)``; "" when absent."""
    args = scanner.decorator_args(decorator)
    if not args:
        return ("str", "")
    if args[0][0] == "obj":
        path: Value = dict(args[0][1]).get("path", ("str", ""))
        return path
    return args[0]


def provider(scanner: Scanner, pairs: list[tuple[str, Value]]) -> None:
    """``{provide: APP_GUARD, useClass: JwtAuthGuard}``: a guard on every route."""
    fields = dict(pairs)
    provide = fields.get("provide")
    if provide is not None and provide[1:] and "APP_GUARD" in str(provide):
        guard = fields.get("useClass") or fields.get("useExisting") or UNKNOWN
        scanner.facts.global_guards.append(describe(guard))


def member_call(
    scanner: Scanner, callee: Value, args: tuple[Value, ...], line: int, order: int
) -> bool:
    """Nest application and module calls."""
    receiver, prop = callee[1], callee[2]
    facts = scanner.facts
    if prop == "register" and describe(receiver) == "RouterModule" and args:
        facts.router_modules.append(args[0])
    elif prop == "enableVersioning":
        facts.versioning.append(args[0] if args else UNKNOWN)
    elif prop == "setGlobalPrefix" and args:
        facts.global_prefixes.append((args[0], line))
    elif prop == "useGlobalGuards":
        facts.global_guards.extend(describe(a) for a in args)
    elif prop == "forRoutes":
        _middleware(scanner, callee, args, line)
    else:
        return False
    return True


def _middleware(scanner: Scanner, callee: Value, routes: tuple[Value, ...], line: int) -> None:
    """``consumer.apply(A, B).exclude(...).forRoutes(...)``."""
    chain = callee[1]
    excluded: tuple[Value, ...] = ()
    while chain[0] == "call" and chain[1][0] == "member":
        prop = chain[1][2]
        if prop == "exclude":
            excluded = chain[2]
        elif prop == "apply":
            middleware = tuple(describe(a) for a in chain[2])
            scanner.facts.nest_middleware.append(NestMiddleware(middleware, routes, excluded, line))
            return
        chain = chain[1][1]
