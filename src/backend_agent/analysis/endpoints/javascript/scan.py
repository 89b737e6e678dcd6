"""Phase one for JavaScript/TypeScript: one file's bindings, exports, routes and mounts."""

from __future__ import annotations

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript.facts import (
    UNKNOWN,
    CallSite,
    FileFacts,
    NestController,
    NestMiddleware,
    NestRoute,
    RouteCall,
    SocketEvent,
    UseCall,
    Value,
)
from backend_agent.analysis.parsing import LanguageName, parse

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "options", "head", "all", "del")
NEST_VERBS = {
    "Get": "GET", "Post": "POST", "Put": "PUT", "Patch": "PATCH", "Delete": "DELETE",
    "Options": "OPTIONS", "Head": "HEAD", "All": "ANY",
}  # fmt: skip
GRAPHQL_OPERATIONS = {"Query": "QUERY", "Mutation": "MUTATION", "Subscription": "SUBSCRIPTION"}
# Fastify route options whose functions run before the handler (where auth lives).
FASTIFY_HOOKS = ("onRequest", "preHandler", "preValidation", "preParsing")
_UNWRAP = {
    "parenthesized_expression", "await_expression", "as_expression", "non_null_expression",
    "satisfies_expression", "type_assertion",
}  # fmt: skip
_FUNCTIONS = {"arrow_function", "function_expression", "function", "generator_function"}
_SDL_NAMES = ("typedefs", "typedef", "schema", "sdl")
# Arguments that may carry a router, an app or a prefix into a function (recorded as calls).
_CARRIERS = ("ref", "param", "arr", "new")
# Array methods whose callback receives the elements: `controllers.forEach(c => ...)`.
_ITERATORS = ("forEach", "map")


def scan_source(source: bytes, language: LanguageName) -> FileFacts:
    """Facts of one file (see ``facts``); tolerant of syntax errors."""
    scanner = SourceScanner(source)
    scanner.visit(parse(source, language).root_node)
    return scanner.facts


def verb_method(verb: str) -> str:
    return {"del": "DELETE", "all": "ANY"}.get(verb, verb.upper())


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _line(node: Node) -> int:
    return node.start_point[0] + 1


def _string(node: Node) -> str:
    return _text(node)[1:-1]


class SourceScanner:
    """Walks one file into ``FileFacts``. Other analyses subclass it and override the
    ``on_call`` and ``on_class`` hooks to see every call and class with evaluated values."""

    def __init__(self, source: bytes) -> None:
        self.facts = FileFacts()
        self.scopes: list[tuple[str, set[str]]] = [("", set())]
        self.classes: list[str] = []
        self.socket_params: dict[str, Value] = {}  # param key -> socket.io server value

    # ---- scopes -------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        scope = self.scopes[-1][0]
        return f"{scope}/{name}" if scope else name

    def _declare(self, name: str, value: Value) -> str:
        self.scopes[-1][1].add(name)
        key = self._key(name)
        self.facts.bindings[key] = value
        return key

    def _lookup(self, name: str) -> Value:
        for scope, names in reversed(self.scopes):
            if name in names:
                return ("ref", f"{scope}/{name}" if scope else name)
        return ("ref", name)

    # ---- hooks for subclasses (no-ops here) ---------------------------------------------

    def on_call(self, kind: str, callee: Value, args: tuple[Value, ...], node: Node) -> None:
        """Every ``call`` or ``new`` expression, with its callee and arguments as values."""

    def on_class(self, name: str, decorators: list[Node], node: Node) -> None:
        """Every class declaration (``node``), with its decorators (outer ones included)."""

    # ---- statements ---------------------------------------------------------------------

    def visit(self, node: Node) -> None:
        kind = node.type
        if kind in ("lexical_declaration", "variable_declaration"):
            for child in node.named_children:
                if child.type == "variable_declarator":
                    self._declarator(child)
        elif kind in ("function_declaration", "generator_function_declaration"):
            name = _text(node.child_by_field_name("name"))
            self._declare(name, ("fn", self._key(name)))
            self._function(node, self._key(name))
        elif kind in ("class_declaration", "abstract_class_declaration"):
            self._class(node, [])
        elif kind == "export_statement":
            self._export(node)
        elif kind == "import_statement":
            self._import(node)
        elif kind == "return_statement":
            if node.named_child_count:
                value = self.value(node.named_children[0])
                scope = self.scopes[-1][0]
                if scope and scope not in self.facts.returns:
                    self.facts.returns[scope] = value
        elif kind == "expression_statement":
            for child in node.named_children:
                self.value(child)
        elif kind == "switch_statement":
            self._switch(node)
        elif kind.endswith("expression"):  # e.g. an `if` condition
            self.value(node)
        else:
            for child in node.named_children:
                self.visit(child)

    def _declarator(self, node: Node) -> None:
        name = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        if name is None:
            return
        if name.type == "identifier":
            key = self._key(_text(name))
            value = self.value(value_node, key) if value_node is not None else UNKNOWN
            self._declare(_text(name), value)
            if value_node is not None:
                self._maybe_sdl(_text(name), value_node)
        elif name.type == "object_pattern" and value_node is not None:
            source = self.value(value_node)
            for prop in name.named_children:
                if prop.type == "shorthand_property_identifier_pattern":
                    self._declare(_text(prop), ("member", source, _text(prop)))
                elif prop.type == "pair_pattern":
                    key_node, target = (
                        prop.child_by_field_name("key"),
                        prop.child_by_field_name("value"),
                    )
                    if target is not None and target.type == "identifier":
                        self._declare(_text(target), ("member", source, _text(key_node)))
        elif value_node is not None:
            self.value(value_node)

    def _function(self, node: Node, key: str) -> None:
        """Walk a function body in its own scope, its parameters bound to ``param`` values."""
        self.scopes.append((key, set()))
        params = node.child_by_field_name("parameters")
        single = node.child_by_field_name("parameter")
        nodes = [single] if single is not None else (params.named_children if params else [])
        index = 0
        for param in nodes:
            if param.type in ("comment", "decorator"):
                continue
            name = _param_name(param)
            if name:
                self._declare(name, ("param", key, index))
            index += 1
        body = node.child_by_field_name("body")
        if body is not None:
            if body.type == "statement_block":
                for statement in body.named_children:
                    self.visit(statement)
            else:
                self.facts.returns.setdefault(key, self.value(body))
        self.scopes.pop()

    def _export(self, node: Node) -> None:
        exports = self.facts.exports
        declaration = node.child_by_field_name("declaration")
        value_node = node.child_by_field_name("value")
        source = node.child_by_field_name("source")
        decorators = [d for d in node.named_children if d.type == "decorator"]
        if declaration is not None:
            if declaration.type in ("class_declaration", "abstract_class_declaration"):
                name = self._class(declaration, decorators)
                exports[name] = ("class", name)
                if any(child.type == "default" for child in node.children):
                    exports["default"] = ("class", name)  # export default class X
                return
            self.visit(declaration)
            for name in _declared_names(declaration):
                exports[name] = self._lookup(name)
            if any(child.type == "default" for child in node.children):
                names = _declared_names(declaration)
                exports["default"] = self._lookup(names[0]) if names else UNKNOWN
            return
        if value_node is not None:
            if value_node.type in ("class", "class_declaration"):
                exports["default"] = ("class", self._class(value_node, decorators))
            else:
                exports["default"] = self.value(value_node, "default")
            return
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        spec = _string(source) if source is not None else None
        for item in clause.named_children if clause is not None else []:
            local = _text(item.child_by_field_name("name"))
            alias = _text(item.child_by_field_name("alias")) or local
            exports[alias] = ("import", spec, local) if spec else self._lookup(local)
        if clause is None and spec:  # export * from './x'
            exports.setdefault("*", ("import", spec, "*"))

    def _import(self, node: Node) -> None:
        source = node.child_by_field_name("source")
        if source is None:
            return
        spec = _string(source)
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        for part in clause.named_children if clause is not None else []:
            if part.type == "identifier":
                self._declare(_text(part), ("import", spec, "default"))
            elif part.type == "namespace_import":
                for ident in part.named_children:
                    self._declare(_text(ident), ("import", spec, "*"))
            elif part.type == "named_imports":
                for item in part.named_children:
                    if item.type != "import_specifier":
                        continue
                    name = _text(item.child_by_field_name("name"))
                    alias = _text(item.child_by_field_name("alias")) or name
                    self._declare(alias, ("import", spec, name))

    # ---- classes (NestJS controllers, class-based Express routers) ----------------------

    def _class(self, node: Node, outer: list[Node]) -> str:
        name = _text(node.child_by_field_name("name")) or f"<class@{_line(node)}>"
        self._declare(name, ("class", name))
        decorators = outer + [d for d in node.named_children if d.type == "decorator"]
        body = node.child_by_field_name("body")
        self.on_class(name, decorators, node)
        self.classes.append(name)
        routes: list[NestRoute] = []
        resolver = any(_decorator_name(_text(d)) == "Resolver" for d in decorators)
        pending: list[Node] = []
        for member in body.named_children if body is not None else []:
            if member.type == "decorator":
                pending.append(member)
                continue
            member_decorators = pending + [
                d for d in member.named_children if d.type == "decorator"
            ]
            pending = []
            if member.type in ("public_field_definition", "field_definition"):
                field_name = member.child_by_field_name("name") or member.child_by_field_name(
                    "property"
                )
                value = member.child_by_field_name("value")
                if field_name is not None and value is not None:
                    key = f"{name}.{_text(field_name)}"
                    self.facts.bindings[key] = self.value(value, key)
            elif member.type == "method_definition":
                method_name = _text(member.child_by_field_name("name"))
                handler = f"{name}.{method_name}"
                route = (
                    self._resolver_field(member_decorators, handler, method_name, member)
                    if resolver
                    else self._nest_route(member_decorators, handler, member)
                )
                if route is not None:
                    routes.append(route)
                self.facts.bindings[f"{name}.{method_name}"] = ("fn", f"{name}.{method_name}")
                self._function(member, f"{name}.{method_name}")
        self.classes.pop()
        by_name = {_decorator_name(_text(d)): d for d in decorators}
        if resolver:
            texts = tuple(_text(d) for d in decorators)
            self.facts.controllers.append(
                NestController(name, ("str", ""), texts, tuple(routes), _line(node), graphql=True)
            )
        if "Controller" in by_name:
            controller = by_name["Controller"]
            self.facts.controllers.append(
                NestController(
                    name,
                    self._path_arg(controller),
                    tuple(_text(d) for d in decorators),
                    tuple(routes),
                    _line(node),
                    self._option_arg(controller, "version"),
                )
            )
        if "Module" in by_name:
            controllers = self._option_arg(by_name["Module"], "controllers")
            if controllers is not None:
                self.facts.nest_modules.append((name, controllers))
        return name

    def _decorator_args(self, decorator: Node) -> tuple[Value, ...]:
        call = next((c for c in decorator.named_children if c.type == "call_expression"), None)
        return self._args(call.child_by_field_name("arguments")) if call is not None else ()

    def _option_arg(self, decorator: Node, option: str) -> Value | None:
        """A field of a decorator's options object, e.g. ``@Controller({version: '1'})``."""
        args = self._decorator_args(decorator)
        return dict(args[0][1]).get(option) if args and args[0][0] == "obj" else None

    def _path_arg(self, decorator: Node) -> Value:
        """The path argument of ``@Controller(...)`` or ``@Get(...)``; "" when absent."""
        args = self._decorator_args(decorator)
        if not args:
            return ("str", "")
        if args[0][0] == "obj":
            path: Value = dict(args[0][1]).get("path", ("str", ""))
            return path
        return args[0]

    def _resolver_field(
        self, decorators: list[Node], handler: str, method: str, node: Node
    ) -> NestRoute | None:
        """``@Query(() => [Cat], {name: 'cats'})`` in a ``@Resolver()``: one GraphQL field."""
        for decorator in decorators:
            kind = GRAPHQL_OPERATIONS.get(_decorator_name(_text(decorator)))
            if kind is None:
                continue
            options = [a for a in self._decorator_args(decorator) if a[0] == "obj"]
            field: Value = ("str", method)
            if options:
                field = dict(options[0][1]).get("name", field)
            texts = tuple(_text(d) for d in decorators)
            return NestRoute((kind,), field, texts, handler, _line(node))
        return None

    def _nest_route(self, decorators: list[Node], handler: str, node: Node) -> NestRoute | None:
        by_name = {_decorator_name(_text(d)): d for d in decorators}
        version_args = self._decorator_args(by_name["Version"]) if "Version" in by_name else ()
        for name, decorator in by_name.items():
            if name in NEST_VERBS:
                texts = tuple(_text(d) for d in decorators)
                path = self._path_arg(decorator)
                version = version_args[0] if version_args else None
                return NestRoute((NEST_VERBS[name],), path, texts, handler, _line(node), version)
        return None

    # ---- expressions --------------------------------------------------------------------

    def value(self, node: Node | None, name: str = "") -> Value:
        """The symbolic value of an expression; walks nested functions for their routes."""
        if node is None:
            return UNKNOWN
        kind = node.type
        if kind in _UNWRAP:
            inner = node.named_children
            return self.value(inner[0], name) if inner else UNKNOWN
        if kind == "string":
            return ("str", _string(node))
        if kind == "template_string":
            return self._template(node)
        if kind == "regex":  # a route pattern we cannot turn into a path
            return ("regex", _text(node))
        if kind == "identifier":
            return self._lookup(_text(node))
        if kind == "this":
            return ("this",)
        if kind == "member_expression":
            obj = self.value(node.child_by_field_name("object"))
            prop = _text(node.child_by_field_name("property"))
            if obj == ("this",) and self.classes:
                return ("ref", f"{self.classes[-1]}.{prop}")
            return ("member", obj, prop)
        if kind == "binary_expression":
            return self._binary(node)
        if kind in _FUNCTIONS:
            key = name or f"<fn@{_line(node)}:{node.start_point[1]}>"
            self._function(node, key)
            return ("fn", key)
        if kind in ("class", "class_expression"):
            return ("class", self._class(node, []))
        if kind == "call_expression":
            return self._call(node)
        if kind == "new_expression":
            ctor = self.value(node.child_by_field_name("constructor"))
            args = self._args(node.child_by_field_name("arguments"))
            value: Value = ("new", ctor, args, node.start_byte)
            self.facts.constructions.append((value, _line(node)))
            self.on_call("new", ctor, args, node)
            return value
        if kind == "object":
            return self._object(node)
        if kind == "array":
            return ("arr", tuple(self.value(c) for c in node.named_children if c.type != "comment"))
        if kind == "assignment_expression":
            self._assign(node)
            return UNKNOWN
        for child in node.named_children:  # ternaries, logical expressions, spreads ...
            self.visit(child) if child.type.endswith("statement") else self.value(child)
        return ("unknown", _text(node)[:80])

    def _template(self, node: Node) -> Value:
        parts: list[Value] = []
        raw = _text(node)
        cursor = node.start_byte + 1
        for child in node.named_children:
            if child.type == "template_substitution":
                if child.start_byte > cursor:
                    parts.append(
                        ("str", raw[cursor - node.start_byte : child.start_byte - node.start_byte])
                    )
                inner = child.named_children
                parts.append(self.value(inner[0]) if inner else UNKNOWN)
                cursor = child.end_byte
        if node.end_byte - 1 > cursor:
            parts.append(
                ("str", raw[cursor - node.start_byte : node.end_byte - 1 - node.start_byte])
            )
        if all(p[0] == "str" for p in parts):
            return ("str", "".join(p[1] for p in parts))
        return ("tpl", tuple(parts))

    def _binary(self, node: Node) -> Value:
        left = self.value(node.child_by_field_name("left"))
        right = self.value(node.child_by_field_name("right"))
        operator = _text(node.child_by_field_name("operator"))
        if operator == "+":
            return ("tpl", (left, right))
        if operator in ("===", "==", "!==", "!="):
            self._method_comparison(node)
        return ("unknown", _text(node)[:80])

    def _object(self, node: Node) -> Value:
        pairs: list[tuple[str, Value]] = []
        for child in node.named_children:
            if child.type == "pair":
                key_node = child.child_by_field_name("key")
                key = (
                    _string(key_node) if key_node and key_node.type == "string" else _text(key_node)
                )
                pairs.append((key, self.value(child.child_by_field_name("value"), "")))
            elif child.type == "shorthand_property_identifier":
                pairs.append((_text(child), self._lookup(_text(child))))
            elif child.type == "method_definition":
                name = _text(child.child_by_field_name("name"))
                key = f"<method {name}@{_line(child)}>"
                self._function(child, key)
                pairs.append((name, ("fn", key)))
            else:
                self.value(child)
        value: Value = ("obj", tuple(pairs))
        provide = dict(pairs).get("provide")
        if provide is not None and provide[1:] and "APP_GUARD" in str(provide):
            guard = dict(pairs).get("useClass") or dict(pairs).get("useExisting") or UNKNOWN
            self.facts.global_guards.append(describe(guard))
        return value

    def _args(self, node: Node | None) -> tuple[Value, ...]:
        if node is None:
            return ()
        if node.type == "template_string":  # tagged template: gql`...`
            return (self.value(node),)
        return tuple(self.value(c) for c in node.named_children if c.type != "comment")

    def _assign(self, node: Node) -> None:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            return
        target = _text(left)
        if target in ("module.exports", "exports"):
            value = self.value(right, "default")
            if (
                value != UNKNOWN or "default" not in self.facts.exports
            ):  # exports = module.exports = x
                self.facts.exports["default"] = value
            if value[0] == "obj":
                for key, item in value[1]:
                    self.facts.exports.setdefault(key, item)
            return
        for prefix in ("module.exports.", "exports."):
            if target.startswith(prefix) and "." not in target[len(prefix) :]:
                name = target[len(prefix) :]
                self.facts.exports[name] = self.value(right, name)
                return
        this = _text(left.child_by_field_name("object")) == "this"
        if left.type == "member_expression" and this and self.classes:
            key = f"{self.classes[-1]}.{_text(left.child_by_field_name('property'))}"
            self.facts.bindings[key] = self.value(right, key)
            return
        if left.type == "identifier":
            ref = self._lookup(target)
            value = self.value(right, ref[1])
            if ref[1] not in self.facts.bindings or self.facts.bindings[ref[1]] == UNKNOWN:
                self.facts.bindings[ref[1]] = value
            self._maybe_sdl(target, right)
            return
        self.value(left)
        self.value(right)

    # ---- calls: where routes, mounts and sockets are recognised -------------------------

    def _call(self, node: Node) -> Value:
        callee_node = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        if callee_node is not None and callee_node.type in ("identifier", "import"):
            name = _text(callee_node)
            arg_nodes = args_node.named_children if args_node is not None else []
            if name in ("require", "import") and arg_nodes and arg_nodes[0].type == "string":
                return ("import", _string(arg_nodes[0]), "default")
        if callee_node is not None and callee_node.type == "import":
            arg_nodes = args_node.named_children if args_node is not None else []
            if arg_nodes and arg_nodes[0].type == "string":
                return ("import", _string(arg_nodes[0]), "default")
        callee = self.value(callee_node)
        socket_server = None
        if callee[0] == "member" and callee[2] == "on" and args_node is not None:
            socket_server = self._socket_handler(callee, args_node)
        args = self._args(args_node)
        if socket_server is not None:
            self.socket_params.pop(socket_server, None)
        call: Value = ("call", callee, args, node.start_byte)
        self.on_call("call", callee, args, node)
        line, order = _line(node), node.start_byte
        if callee[0] == "member":
            self._member_call(callee, args, node, line, order)
        elif callee[0] == "ref" and _text(callee_node) in ("gql", "graphql"):
            self._sdl_arg(args, line)
        iterates = callee[0] == "member" and callee[2] in _ITERATORS and args[:1] != ()
        if any(a[0] in _CARRIERS for a in args) or (iterates and args[0][0] == "fn"):
            self.facts.calls.append(CallSite(callee, args, line, order))
        return call

    def _member_call(
        self, callee: Value, args: tuple[Value, ...], node: Node, line: int, order: int
    ) -> None:
        receiver, prop = callee[1], callee[2]
        facts = self.facts
        if prop in HTTP_VERBS:
            self._route(receiver, prop, args, node, line, order)
        elif prop == "route" and len(args) == 1 and args[0][0] == "obj":
            self._fastify_route(receiver, args[0], line, order)
        elif prop == "register" and describe(receiver) == "RouterModule" and args:
            facts.router_modules.append(args[0])
        elif prop in ("use", "register"):
            facts.uses.append(UseCall(receiver, prop, args, line, order))
        elif prop == "enableVersioning":
            facts.versioning.append(args[0] if args else UNKNOWN)
        elif prop == "addHook" and len(args) >= 2:
            facts.uses.append(UseCall(receiver, "hook", args[1:], line, order))
        elif prop == "setGlobalPrefix" and args:
            facts.global_prefixes.append((args[0], line))
        elif prop == "useGlobalGuards":
            facts.global_guards.extend(describe(a) for a in args)
        elif prop == "forRoutes":
            self._nest_middleware(callee, args, line)
        elif prop == "prefix" and len(args) == 1:  # koa-router's router.prefix('/x')
            facts.uses.append(UseCall(receiver, "prefix", args, line, order))

    def _route(
        self, receiver: Value, verb: str, args: tuple[Value, ...], node: Node, line: int, order: int
    ) -> None:
        chained = _chained_route(receiver)
        if chained is not None:  # router.route('/x').get(h).post(h)
            receiver, path = chained
            middleware, handler = args[:-1], args[-1:] if args else ()
        else:
            if len(args) < 2 or not _pathlike(args[0]):
                return
            path, rest = args[0], args[1:]
            if len(rest) >= 2 and rest[0][0] == "str":  # koa-router named route
                path, rest = rest[0], rest[1:]
            if verb == "all" and path[0] == "str" and path[1].endswith("*"):
                # router.all('/admin/*', requireAdmin): middleware for what follows, not a route
                prefix: Value = ("str", path[1].rstrip("*").rstrip("/"))
                self.facts.uses.append(UseCall(receiver, "use", (prefix, *rest), line, order))
                return
            middleware, handler = rest[:-1], rest[-1:]
        flat: list[Value] = []
        for item in middleware:
            flat.extend(_middleware_values(item))
        self.facts.routes.append(
            RouteCall(
                receiver,
                (verb_method(verb),),
                path,
                tuple(flat),
                describe(handler[0]) if handler else "",
                line,
                order,
            )
        )

    def _fastify_route(self, receiver: Value, options: Value, line: int, order: int) -> None:
        fields = dict(options[1])
        method = fields.get("method")
        path = fields.get("url") or fields.get("path")
        if method is None or path is None:
            return
        methods = [method] if method[0] == "str" else list(method[1]) if method[0] == "arr" else []
        names = tuple(m[1].upper() for m in methods if m[0] == "str")
        if not names:
            return
        self.facts.routes.append(
            RouteCall(
                receiver,
                names,
                path,
                tuple(_middleware_values(options)),
                describe(fields.get("handler", UNKNOWN)),
                line,
                order,
            )
        )

    def _nest_middleware(self, callee: Value, routes: tuple[Value, ...], line: int) -> None:
        chain = callee[1]
        excluded: tuple[Value, ...] = ()
        while chain[0] == "call" and chain[1][0] == "member":
            prop = chain[1][2]
            if prop == "exclude":
                excluded = chain[2]
            elif prop == "apply":
                middleware = tuple(describe(a) for a in chain[2])
                self.facts.nest_middleware.append(
                    NestMiddleware(middleware, routes, excluded, line)
                )
                return
            chain = chain[1][1]

    def _socket_handler(self, callee: Value, args_node: Node) -> str | None:
        """``io.on('connection', socket => ...)``: remember ``socket`` while the body is walked."""
        nodes = args_node.named_children
        if len(nodes) < 2 or nodes[0].type != "string":
            return None
        event = _string(nodes[0])
        receiver = callee[1]
        if receiver[0] == "ref" and receiver[1] in self.socket_params:
            self.facts.sockets.append(
                SocketEvent(self.socket_params[receiver[1]], event, _line(nodes[0]))
            )
            return None
        if event not in ("connection", "connect") or nodes[1].type not in _FUNCTIONS:
            return None
        key = f"<fn@{_line(nodes[1])}:{nodes[1].start_point[1]}>"
        param = _first_param(nodes[1])
        if param is None:
            return None
        param_key = f"{key}/{param}"
        self.socket_params[param_key] = receiver
        self.facts.sockets.append(SocketEvent(receiver, "", _line(nodes[0])))
        return param_key

    # ---- GraphQL SDL and request-method checks ------------------------------------------

    def _maybe_sdl(self, name: str, node: Node) -> None:
        if node.type in ("template_string", "string") and name.lower() in _SDL_NAMES:
            self._sdl_arg((self.value(node),), _line(node))

    def _sdl_arg(self, args: tuple[Value, ...], line: int) -> None:
        if args and args[0][0] == "str":
            self.facts.graphql_sdl.append((args[0][1], line))
        elif args and args[0][0] == "tpl":  # ${fragments}: keep the literal parts
            text = "".join(p[1] if p[0] == "str" else "\n" for p in args[0][1])
            self.facts.graphql_sdl.append((text, line))

    def _method_comparison(self, node: Node) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        for a, b in ((left, right), (right, left)):
            if a is None or b is None or not _text(a).endswith(".method"):
                continue
            if b.type == "string" and _string(b).lower() in HTTP_VERBS:
                self._request_method(_string(b))

    def _switch(self, node: Node) -> None:
        value = node.child_by_field_name("value")
        body = node.child_by_field_name("body")
        if value is not None and body is not None and _text(value).strip("()").endswith(".method"):
            for case in body.named_children:
                label = case.child_by_field_name("value")
                if label is not None and label.type == "string":
                    self._request_method(_string(label))
        for child in node.named_children:
            self.visit(child)

    def _request_method(self, verb: str) -> None:
        methods = set(self.facts.request_methods) | {verb.upper()}
        self.facts.request_methods = tuple(sorted(methods))


def _param_name(param: Node) -> str:
    if param.type == "identifier":
        return _text(param)
    for field_name in ("pattern", "left", "name"):
        inner = param.child_by_field_name(field_name)
        if inner is not None and inner.type == "identifier":
            return _text(inner)
    return ""


def _first_param(function: Node) -> str | None:
    single = function.child_by_field_name("parameter")
    if single is not None:
        return _text(single)
    params = function.child_by_field_name("parameters")
    if params is None or not params.named_children:
        return None
    return _param_name(params.named_children[0]) or None


def _declared_names(declaration: Node) -> list[str]:
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        return [
            _text(d.child_by_field_name("name"))
            for d in declaration.named_children
            if d.type == "variable_declarator"
            and (n := d.child_by_field_name("name")) is not None
            and n.type == "identifier"
        ]
    name = declaration.child_by_field_name("name")
    return [_text(name)] if name is not None else []


def _decorator_name(text: str) -> str:
    return text.lstrip("@").split("(", 1)[0].strip()


def _chained_route(receiver: Value) -> tuple[Value, Value] | None:
    """For ``router.route(path).get(...)`` chains: the router and the path."""
    while receiver[0] == "call" and receiver[1][0] == "member":
        prop = receiver[1][2]
        if prop == "route" and len(receiver[2]) == 1 and _pathlike(receiver[2][0]):
            return receiver[1][1], receiver[2][0]
        if prop not in HTTP_VERBS:
            return None
        receiver = receiver[1][1]
    return None


def _pathlike(value: Value) -> bool:
    if value[0] == "arr":
        return bool(value[1]) and all(_pathlike(v) for v in value[1])
    return value[0] in ("str", "tpl", "ref", "member", "import", "regex")


def _middleware_values(value: Value) -> list[Value]:
    """Middleware in an argument: arrays are flattened, fastify options give their hooks."""
    if value[0] == "arr":
        return [m for item in value[1] for m in _middleware_values(item)]
    if value[0] == "obj":
        fields = dict(value[1])
        return [
            m for hook in FASTIFY_HOOKS if hook in fields for m in _middleware_values(fields[hook])
        ]
    return [value]


def describe(value: Value) -> str:
    """A short readable name for a value (middleware, handler, guard)."""
    kind = value[0]
    if kind == "ref":
        return str(value[1]).rsplit("/", 1)[-1]
    if kind == "import":
        return str(value[2]) if value[2] not in ("default", "*") else str(value[1])
    if kind == "member":
        return f"{describe(value[1])}.{value[2]}"
    if kind in ("call", "new"):
        return f"{describe(value[1])}({', '.join(describe(a) for a in value[2])})"
    if kind == "str":
        return repr(value[1])
    if kind == "tpl":
        return (
            "`" + "".join(p[1] if p[0] == "str" else f"${{{describe(p)}}}" for p in value[1]) + "`"
        )
    if kind == "fn":
        return "<anonymous>" if str(value[1]).startswith("<") else str(value[1])
    if kind == "class":
        return str(value[1])
    if kind == "unknown":
        return str(value[1])
    if kind == "obj":
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in value[1]) + "}"
    if kind == "arr":
        return "[" + ", ".join(describe(v) for v in value[1]) + "]"
    return str(kind)
