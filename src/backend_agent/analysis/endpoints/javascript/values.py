"""Evaluating symbolic values across files: imports, exports, factories and function returns."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, TsConfig, Value, describe

_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_MAX_DEPTH = 40

# (module, export name, construction) -> router kind; "call" covers `f()`, "new" `new F()`.
_FACTORIES: dict[tuple[str, str], str] = {
    ("express", "default"): "express-app",
    ("express", "Router"): "express-router",
    ("koa", "default"): "koa-app",
    ("koa-router", "default"): "koa-router",
    ("koa-router", "Router"): "koa-router",
    ("@koa/router", "default"): "koa-router",
    ("@koa/router", "Router"): "koa-router",
    ("fastify", "default"): "fastify",
    ("fastify", "fastify"): "fastify",
    ("fastify", "Fastify"): "fastify",
    ("socket.io", "default"): "socket.io",
    ("socket.io", "Server"): "socket.io",
    ("ws", "WebSocketServer"): "ws",
    ("ws", "Server"): "ws",
    ("ws", "WebSocket.Server"): "ws",
    ("ws", "default.Server"): "ws",
}
# Router methods whose result is the router itself (chains) or its request handler.
_RETURNS_ROUTER = frozenset(
    {"routes", "middleware", "callback", "use", "register", "prefix"}
    | {"get", "post", "put", "patch", "delete", "del", "all", "options", "head"}
    | {"decorate", "decorateRequest", "decorateReply", "withTypeProvider", "addHook"}
    | {"setErrorHandler", "setNotFoundHandler", "addSchema", "addContentTypeParser"}
)
APP_KINDS = frozenset({"express-app", "koa-app", "fastify"})
FRAMEWORK_OF = {
    "express-app": "express", "express-router": "express", "koa-app": "koa",
    "koa-router": "koa", "fastify": "fastify",
}  # fmt: skip


@dataclass(frozen=True)
class RouterNode:
    """Something routes are declared on: an app, a router, or a function parameter."""

    file: str
    key: str
    kind: str  # a factory kind, "param" or "unknown"


@dataclass(frozen=True)
class Thing:
    """The result of evaluating a value: ``kind`` says which fields mean something."""

    kind: str  # str | node | fn | class | instance | external | module | obj | arr | nodeprop
    file: str = ""
    name: str = ""  # string value, function key, class name, external module, ...
    detail: str = ""  # external export name, node property
    value: Value = ()  # obj/arr payload, factory arguments
    node: RouterNode | None = None


UNKNOWN_THING = Thing("unknown")


class Evaluator:
    """Evaluates values of any file against the facts of all files."""

    def __init__(
        self, facts: Mapping[str, FileFacts], configs: Mapping[str, TsConfig] | None = None
    ) -> None:
        self.facts = facts
        self.configs = dict(configs or {})
        self.factory_args: dict[RouterNode, tuple[Value, ...]] = {}
        self._modules: dict[tuple[str, str], str | None] = {}

    def module(self, importer: str, spec: str) -> str | None:
        """The scanned file an import specifier names, or None for packages and misses."""
        cache_key = (posixpath.dirname(importer), spec)
        if cache_key not in self._modules:
            self._modules[cache_key] = self._find_module(importer, spec)
        return self._modules[cache_key]

    def _find_module(self, importer: str, spec: str) -> str | None:
        if spec.startswith("."):
            bases = [posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))]
        else:
            bases = self._aliased(importer, spec)
            if spec.startswith(("@/", "~/")):
                bases += [f"src/{spec[2:]}", spec[2:]]
            bases += [spec, f"src/{spec}"]
        for base in bases:
            stem = base[: -len(ext)] if (ext := posixpath.splitext(base)[1]) == ".js" else base
            for candidate in (
                base,
                *(stem + e for e in _EXTENSIONS),
                *(f"{base}/index{e}" for e in _EXTENSIONS),
            ):
                if candidate in self.facts:
                    return candidate
        return None

    def _aliased(self, importer: str, spec: str) -> list[str]:
        """Paths a bare specifier maps to under the nearest tsconfig's ``paths``/``baseUrl``."""
        found: list[str] = []
        for config_path, config in self.configs.items():
            directory = posixpath.dirname(config_path)
            if directory and not importer.startswith(directory + "/"):
                continue
            base = posixpath.join(directory, config.base_url or ".")
            for pattern, targets in config.paths:
                head, star, tail = pattern.partition("*")
                if star and spec.startswith(head) and spec.endswith(tail):
                    rest = spec[len(head) : len(spec) - len(tail)]
                elif not star and spec == pattern:
                    rest = ""
                else:
                    continue
                found += [
                    posixpath.normpath(posixpath.join(base, t.replace("*", rest))) for t in targets
                ]
            if config.base_url is not None:
                found.append(posixpath.normpath(posixpath.join(base, spec)))
        return found

    def eval(self, file: str, value: Value, depth: int = 0) -> Thing:
        if depth > _MAX_DEPTH or not value:
            return UNKNOWN_THING
        kind = value[0]
        facts = self.facts.get(file)
        if facts is None:
            return UNKNOWN_THING
        if kind == "str":
            return Thing("str", name=value[1])
        if kind == "tpl":
            parts = [self.eval(file, part, depth + 1) for part in value[1]]
            if all(p.kind == "str" for p in parts):
                return Thing("str", name="".join(p.name for p in parts))
            return UNKNOWN_THING
        if kind == "ref":
            bound = facts.bindings.get(value[1])
            if bound is None:
                return UNKNOWN_THING
            return self.eval(file, bound, depth + 1)
        if kind == "param":
            return Thing("node", node=RouterNode(file, f"{value[1]}#{value[2]}", "param"))
        if kind == "import":
            return self._import(file, value[1], value[2], depth)
        if kind == "member":
            return self._member(self.eval(file, value[1], depth + 1), value[2], depth)
        if kind in ("call", "new"):
            return self._construct(file, value, depth)
        if kind == "fn":
            return Thing("fn", file, value[1])
        if kind == "class":
            return Thing("class", file, value[1])
        if kind in ("obj", "arr"):
            return Thing(kind, file, value=value[1])
        if kind == "default":  # `process.env.PREFIX || '/api'`: the code's default
            left = self.eval(file, value[1], depth + 1)
            if left.kind == "str" and left.name:
                return left
            return self.eval(file, value[2], depth + 1) if is_environment(value[1]) else left
        return UNKNOWN_THING

    def _import(self, file: str, spec: str, name: str, depth: int) -> Thing:
        target = self.module(file, spec)
        if target is None:  # a package; `import * as X` of a CommonJS module is its default
            return Thing("external", name=spec, detail="default" if name == "*" else name)
        if name == "*":
            return Thing("module", target)
        return self.export(target, name, depth + 1)

    def export(self, target: str, name: str, depth: int) -> Thing:
        exports = self.facts[target].exports
        if name in exports:
            return self.eval(target, exports[name], depth + 1)
        if "*" in exports:
            star = exports["*"]
            module = self.module(target, star[1])
            if module is not None and depth < _MAX_DEPTH:
                return self.export(module, name, depth + 1)
        return UNKNOWN_THING

    def _member(self, obj: Thing, prop: str, depth: int) -> Thing:
        if obj.kind == "external":
            detail = prop if obj.detail in ("default", "*") else f"{obj.detail}.{prop}"
            return Thing("external", name=obj.name, detail=detail)
        if obj.kind == "module":
            return self.export(obj.file, prop, depth + 1)
        if obj.kind == "obj":
            fields = dict(obj.value)
            return self.eval(obj.file, fields[prop], depth + 1) if prop in fields else UNKNOWN_THING
        if obj.kind == "class":  # static members and methods: `C.constructor`
            return self.eval(obj.file, ("ref", f"{obj.name}.{prop}"), depth + 1)
        if obj.kind == "instance":
            return self.eval(obj.file, ("ref", f"{obj.name}.{prop}"), depth + 1)
        if obj.kind == "node" and prop == "default":  # require('./esm-module').default
            return obj
        if obj.kind == "node":
            return Thing("nodeprop", detail=prop, node=obj.node)
        return UNKNOWN_THING

    def _construct(self, file: str, value: Value, depth: int) -> Thing:
        callee = self.eval(file, value[1], depth + 1)
        args: tuple[Value, ...] = value[2]
        if callee.kind == "external":
            factory = _FACTORIES.get((callee.name, callee.detail))
            if factory is not None:
                node = RouterNode(file, f"@{value[3]}", factory)
                self.factory_args[node] = args
                return Thing("node", node=node)
            if callee.name == REQUIRE_DIRECTORY and args:  # an object of the loaded modules
                modules = tuple(
                    (name, ("import", spec, "default"))
                    for name, spec in directory_modules(self, file, args)
                )
                return Thing("obj", file, value=modules)
            if callee.name == "fastify-plugin" and args:  # not encapsulated: see fastify.py
                plugin = self.eval(file, args[0], depth + 1)
                return Thing(plugin.kind, plugin.file, plugin.name, "fastify-plugin", plugin.value)
            return Thing("external", file, callee.name, f"{callee.detail}()", value=args)
        if callee.kind == "class" and value[0] == "new":
            return Thing("instance", callee.file, callee.name)
        if callee.kind == "fn" and value[0] == "call":
            returned = self.facts[callee.file].returns.get(callee.name)
            if returned is not None:
                return self.eval(callee.file, returned, depth + 1)
            return UNKNOWN_THING
        if callee.kind == "nodeprop" and callee.detail in _RETURNS_ROUTER:
            return Thing("node", node=callee.node)
        if callee.kind == "nodeprop" and callee.detail == "of" and args:
            namespace = self.eval(file, args[0], depth + 1)
            return Thing("nodeprop", name=namespace.name, detail="namespace", node=callee.node)
        return UNKNOWN_THING

    def strings(self, file: str, value: Value) -> list[str] | None:
        """The literal strings a value stands for, or None when any part is not literal."""
        thing = self.eval(file, value)
        if thing.kind == "str":
            return [thing.name]
        if thing.kind == "arr":
            found: list[str] = []
            for item in thing.value:
                inner = self.strings(thing.file, item)
                if inner is None:
                    return None
                found += inner
            return found
        return None


def is_environment(value: Value) -> bool:
    """``process.env.X`` or ``import.meta.env.X``."""
    while value[0] == "member":
        if value[1][0] == "member" and value[1][2] == "env":
            return describe(value[1][1]) in ("process", "import.meta")
        value = value[1]
    return False


def join_paths(prefix: str | None, path: str | None) -> str | None:
    """A mount prefix and a path under it (None when either is unknown)."""
    if prefix is None or path is None:
        return None
    if not path or path == "/":
        return prefix or path
    return prefix.rstrip("/") + "/" + path.lstrip("/")


REQUIRE_DIRECTORY = "require-directory"
_DEFAULT_EXTENSIONS = ("js", "json", "coffee")


def directory_of(value: Value | None, file: str) -> str | None:
    """``path.join(__dirname, 'routes')`` (or a plain string) as a repository path."""
    if value is None:
        return None
    parts: list[str] = []
    if value[0] == "call":
        for arg in value[2]:
            if arg == ("ref", "__dirname") or "import.meta" in describe(arg):
                parts.append(posixpath.dirname(file))
            elif arg[0] == "str":
                parts.append(arg[1])
            else:
                return None
    elif value[0] == "str":
        parts = [posixpath.dirname(file), value[1]]
    else:
        return None
    joined = posixpath.normpath(posixpath.join(*parts)) if parts else None
    return None if joined is None or joined.startswith("..") else joined.lstrip("./") or None


def directory_modules(
    values: Evaluator, file: str, args: tuple[Value, ...]
) -> list[tuple[str, str]]:
    """``requireDirectory(module, [dir], [options])``: (name, import specifier) of each
    module it loads (``include``/``exclude`` regexes, ``extensions``, ``recurse``,
    ``rename: camelCase``); the calling file itself is skipped, as the library does."""
    rest = args[1:]
    options = values.eval(file, rest[-1]) if rest and rest[-1][0] in ("obj", "ref") else None
    fields = dict(options.value) if options is not None and options.kind == "obj" else {}
    has_directory = bool(rest) and (options is None or len(rest) > 1)
    directory = directory_of(rest[0], file) if has_directory else posixpath.dirname(file)
    if directory is None:
        return []
    extensions = values.strings(file, fields.get("extensions", ("arr", ()))) or list(
        _DEFAULT_EXTENSIONS
    )
    include, exclude = _pattern(fields.get("include")), _pattern(fields.get("exclude"))
    recurse = fields.get("recurse") != ("unknown", "false")
    camel = "camelcase" in describe(fields.get("rename", ("unknown", ""))).lower()
    found: list[tuple[str, str]] = []
    for target in sorted(values.facts):
        inside = target[len(directory) + 1 :] if directory else target
        if target == file or (directory and not target.startswith(directory + "/")):
            continue
        if (not recurse and "/" in inside) or target.rsplit(".", 1)[-1] not in extensions:
            continue
        if (include is not None and not include.search(target)) or (
            exclude is not None and exclude.search(target)
        ):
            continue
        name = posixpath.splitext(posixpath.basename(target))[0]
        if camel:
            head, *tail = re.split(r"[-_\s]+", name)
            name = head + "".join(part[:1].upper() + part[1:] for part in tail)
        spec = posixpath.relpath(target, posixpath.dirname(file))
        found.append((name, spec if spec.startswith(".") else f"./{spec}"))
    return found


def _pattern(value: Value | None) -> re.Pattern[str] | None:
    """A JavaScript regex literal option as a Python pattern (None when absent or unreadable)."""
    if value is None or value[0] != "regex":
        return None
    source, _, flags = str(value[1])[1:].rpartition("/")
    try:
        return re.compile(source, re.IGNORECASE if "i" in flags else 0)
    except re.error:
        return None
