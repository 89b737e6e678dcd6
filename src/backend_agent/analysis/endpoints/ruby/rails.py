"""Rails ``config/routes.rb``: the routing DSL expanded into method, full path and action."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from backend_agent.analysis.endpoints.model import Unresolved
from backend_agent.analysis.endpoints.ruby.scan import Call, Item, RbValue

_VERBS = ("get", "post", "put", "patch", "delete")
_PLURAL_ACTIONS = ("index", "create", "new", "edit", "show", "update", "destroy")
_SINGULAR_ACTIONS = ("create", "new", "edit", "show", "update", "destroy")
# Blocks whose routes are drawn as if the block were not there.
_TRANSPARENT = ("constraints", "defaults", "with_options", "format")


@dataclass(frozen=True)
class RailsRoute:
    method: str
    path: str
    controller: str  # e.g. "api/v1/articles" (a path, as Rails writes it), "" when unknown
    action: str
    file: str
    line: int
    devise: str = ""  # the Devise controller family ("sessions", ...) for devise_for routes
    authenticated: bool = False  # inside Devise's `authenticate`/`authenticated` block


@dataclass(frozen=True)
class _Resource:
    collection: str  # path of the collection (or of the singular resource)
    member: str  # path of one member
    nested: str  # prefix for nested routes
    controller: str
    shallow_base: str


@dataclass(frozen=True)
class _Scope:
    path: str = ""
    module: str = ""
    controller: str = ""
    resource: _Resource | None = None
    on: str = ""  # "member" or "collection" inside such blocks
    shallow: bool = False
    shallow_base: str = ""


@dataclass
class RailsContext:
    """What route expansion needs from the rest of the repository."""

    files: Mapping[str, tuple[Item, ...]]
    api_only: bool
    devise_modules: Callable[[str], tuple[str, ...] | None]  # resource -> model's modules
    mounted: Callable[[str, str, str, int], bool]  # engine, path, file, line -> handled


class RailsRoutes:
    """Expands one routes file (and the files it ``draw``s) into routes."""

    def __init__(self, context: RailsContext) -> None:
        self.context = context
        self.routes: list[RailsRoute] = []
        self.unresolved: list[Unresolved] = []
        self.concerns: dict[str, tuple[Item, ...]] = {}
        self.cable_paths: list[str] = []
        self.file = ""
        self.authenticated = 0  # depth of Devise `authenticate :user do` blocks

    def expand(self, file: str, items: tuple[Item, ...], base: str = "") -> None:
        """Expand the ``routes.draw`` blocks of a file, under ``base`` for mounted engines."""
        self.file = file
        for item in items:
            if isinstance(item, Call) and item.name == "draw" and item.has_block:
                self._block(item.children, _Scope(path=base.strip("/")))
            elif isinstance(item, Call):
                self.expand(file, item.children, base)

    def _block(self, items: tuple[Item, ...], scope: _Scope) -> None:
        for item in items:
            if isinstance(item, Call):
                self._call(item, scope)

    def _call(self, call: Call, scope: _Scope) -> None:
        name = call.name
        if name in _VERBS or name == "match":
            self._verb(call, scope)
        elif name in ("resources", "resource"):
            for arg in call.args:
                if arg[0] in ("sym", "str"):
                    self._resources(call, str(arg[1]), scope, name == "resource")
        elif name == "namespace" and call.args:
            segment = _string(call.args[0])
            path = _string(call.option("path")) if call.option("path") else segment
            module_option = call.option("module")
            self._block(
                call.children,
                replace(
                    scope,
                    path=_join(scope.path, path),
                    module=scope.module
                    if module_option == ("nil",)
                    else _join(scope.module, _string(module_option) or segment),
                    resource=None,
                    on="",
                ),
            )
        elif name == "scope":
            path = _string(call.args[0]) if call.args else _string(call.option("path"))
            module = _string(call.option("module"))
            controller = _string(call.option("controller"))
            self._block(
                call.children,
                replace(
                    scope,
                    path=_join(scope.path, _drop_optional(path)),
                    module=_join(scope.module, module),
                    controller=controller or scope.controller,
                ),
            )
        elif name == "controller" and call.args:
            self._block(call.children, replace(scope, controller=_string(call.args[0])))
        elif name in ("member", "collection") and scope.resource is not None:
            self._block(call.children, replace(scope, on=name))
        elif name == "nested" and scope.resource is not None:
            self._block(call.children, replace(scope, on=""))
        elif name == "shallow":
            self._block(call.children, replace(scope, shallow=True, shallow_base=scope.path))
        elif name == "concern" and call.args:
            self.concerns[_string(call.args[0])] = call.children
        elif name == "concerns":
            for arg in call.args:
                self._block(self.concerns.get(_string(arg), ()), scope)
        elif name == "root":
            self._root(call, scope)
        elif name == "mount":
            self._mount(call, scope)
        elif name == "devise_for":
            self._devise(call, scope)
        elif name == "draw" and call.args:
            included = f"config/routes/{_string(call.args[0])}.rb"
            saved = self.file
            self.file = included
            self._block(self.context.files.get(included, ()), scope)
            self.file = saved
        elif name in ("authenticate", "authenticated"):  # Devise: signed-in users only
            self.authenticated += 1
            self._block(call.children, scope)
            self.authenticated -= 1
        elif name in _TRANSPARENT or (call.has_block and name in ("api_version", "version")):
            self._block(call.children, scope)

    # ---- verbs ---------------------------------------------------------------------------

    def _verb(self, call: Call, scope: _Scope) -> None:
        path_value: RbValue | None = call.args[0] if call.args else None
        target = call.option("to")
        for key, value in call.options:
            if key.startswith("=>") and path_value is None:
                path_value, target = ("str", key[2:].strip("'\"")), value
        if path_value is None:
            return
        path = _string(path_value)
        controller, action = _target(target, call)
        if not action:
            action = re.sub(r"[/:(].*", "", path.strip("/").split("/")[-1]) if path else ""
        methods = [call.name.upper()] if call.name != "match" else _via(call.option("via"))
        on = _string(call.option("on")) or scope.on
        base = scope.path
        resource = scope.resource
        if resource is not None:
            base = {"member": resource.member, "collection": resource.collection}.get(
                on, resource.nested
            )
            controller = controller or resource.controller
        elif scope.controller and not controller:
            controller = _join(scope.module, scope.controller)
        elif controller:
            controller = _join(scope.module, controller)
        full = _join(base, _drop_optional(path))
        for method in methods:
            self._add(method, full, controller, action, call.line)

    def _root(self, call: Call, scope: _Scope) -> None:
        target = call.args[0] if call.args else call.option("to")
        controller, action = _target(target, call)
        self._add(
            "GET",
            scope.path or "/",
            _join(scope.module, controller) if controller else "",
            action,
            call.line,
        )

    # ---- resources -----------------------------------------------------------------------

    def _resources(self, call: Call, name: str, scope: _Scope, singular: bool) -> None:
        segment = _string(call.option("path")) or name
        controller = _string(call.option("controller")) or (_pluralise(name) if singular else name)
        module = _string(call.option("module"))
        controller = _join(_join(scope.module, module), controller)
        param = _string(call.option("param")) or "id"
        parent = scope.resource
        base = parent.nested if parent is not None else scope.path
        if scope.on == "member" and parent is not None:
            base = parent.member
        elif scope.on == "collection" and parent is not None:
            base = parent.collection
        collection = _join(base, segment)
        member = collection if singular else f"{collection}/:{param}"
        nested = collection if singular else f"{collection}/:{singularise(name)}_{param}"
        shallow = scope.shallow or call.option("shallow") == ("bool", "true")
        shallow_base = scope.shallow_base if scope.shallow else scope.path
        shallow_member = _join(shallow_base, segment) + ("" if singular else f"/:{param}")
        actions = _actions(call, singular, self.context.api_only)
        use_shallow = shallow and parent is not None and not singular
        for action in actions:
            if action in ("index", "create"):
                methods, path = ["GET" if action == "index" else "POST"], collection
            elif action == "new":
                methods, path = ["GET"], f"{collection}/new"
            elif action == "edit":
                methods, path = ["GET"], f"{shallow_member if use_shallow else member}/edit"
            else:
                path = shallow_member if use_shallow else member
                methods = {"show": ["GET"], "update": ["PATCH", "PUT"], "destroy": ["DELETE"]}[
                    action
                ]
            for method in methods:
                self._add(method, path, controller, action, call.line)
        children = call.children
        for concern in _names(call.option("concerns")):
            children = self.concerns.get(concern, ()) + children
        resource = _Resource(collection, member, nested, controller, shallow_base)
        self._block(
            children,
            replace(scope, resource=resource, on="", shallow=shallow, shallow_base=shallow_base),
        )

    # ---- engines and devise --------------------------------------------------------------

    def _mount(self, call: Call, scope: _Scope) -> None:
        engine, path = "", ""
        if call.args:
            target = call.args[0]
            if target[0] == "call":  # mount ActionCable.server, at: '/cable'
                engine = f"{target[1].receiver}.{target[1].name}"
            else:
                engine = _string(target)
            path = _string(call.option("at")) or _string(call.option("path"))
        for key, value in call.options:
            if key.startswith("=>"):
                engine, path = key[2:], _string(value)
        if not path:
            path = "/"
        full = _join(scope.path, path)
        if engine.replace(" ", "") in ("ActionCable.server", "ActionCable.server()"):
            self.cable_paths.append(full)
            return
        if not self.context.mounted(engine, full, self.file, call.line):
            self.unresolved.append(
                Unresolved(
                    self.file,
                    call.line,
                    normalise_rails(full) + "/*",
                    f"routes of mounted {engine} are not known",
                )
            )

    def _devise(self, call: Call, scope: _Scope) -> None:
        for arg in call.args:
            resource = _string(arg)
            modules = self.context.devise_modules(resource)
            if modules is None:
                self.unresolved.append(
                    Unresolved(
                        self.file,
                        call.line,
                        normalise_rails(_join(scope.path, resource)) + "/*",
                        f"devise_for :{resource}: the model's devise modules are not known",
                    )
                )
                continue
            self._devise_routes(call, scope, resource, modules)

    def _devise_routes(
        self, call: Call, scope: _Scope, resource: str, modules: tuple[str, ...]
    ) -> None:
        base = _join(scope.path, _string(call.option("path")) or resource)
        names = dict(_hash(call.option("path_names")))
        controllers = dict(_hash(call.option("controllers")))
        only = _names(call.option("only"))
        skip = _names(call.option("skip"))

        def name(key: str, default: str) -> str:
            return names.get(key, default)

        families = {
            "database_authenticatable": ("sessions", [
                ("GET", name("sign_in", "sign_in"), "new"),
                ("POST", name("sign_in", "sign_in"), "create"),
                ("DELETE", name("sign_out", "sign_out"), "destroy"),
            ]),
            "registerable": ("registrations", [
                ("GET", _join(name("registration", ""), "cancel"), "cancel"),
                ("GET", _join(name("registration", ""), name("sign_up", "sign_up")), "new"),
                ("GET", _join(name("registration", ""), name("edit", "edit")), "edit"),
                ("PATCH", name("registration", ""), "update"),
                ("PUT", name("registration", ""), "update"),
                ("DELETE", name("registration", ""), "destroy"),
                ("POST", name("registration", ""), "create"),
            ]),
            "recoverable": ("passwords", [
                ("GET", f"{name('password', 'password')}/new", "new"),
                ("GET", f"{name('password', 'password')}/edit", "edit"),
                ("PATCH", name("password", "password"), "update"),
                ("PUT", name("password", "password"), "update"),
                ("POST", name("password", "password"), "create"),
            ]),
            "confirmable": ("confirmations", [
                ("GET", f"{name('confirmation', 'confirmation')}/new", "new"),
                ("GET", name("confirmation", "confirmation"), "show"),
                ("POST", name("confirmation", "confirmation"), "create"),
            ]),
            "lockable": ("unlocks", [
                ("GET", f"{name('unlock', 'unlock')}/new", "new"),
                ("GET", name("unlock", "unlock"), "show"),
                ("POST", name("unlock", "unlock"), "create"),
            ]),
        }  # fmt: skip
        for module in modules:
            if module not in families:
                continue
            family, routes = families[module]
            if (only and family not in only) or family in skip:
                continue
            controller = controllers.get(family, f"devise/{family}")
            for method, path, action in routes:
                self.routes.append(
                    RailsRoute(
                        method,
                        normalise_rails(_join(base, path)),
                        controller,
                        action,
                        self.file,
                        call.line,
                        family,
                    )
                )

    def _add(self, method: str, path: str, controller: str, action: str, line: int) -> None:
        self.routes.append(
            RailsRoute(
                method,
                normalise_rails(path),
                controller,
                action,
                self.file,
                line,
                authenticated=self.authenticated > 0,
            )
        )


def normalise_rails(path: str) -> str:
    return "/" + path.strip("/") if path.strip("/") else "/"


def _actions(call: Call, singular: bool, api_only: bool) -> list[str]:
    actions = list(_SINGULAR_ACTIONS if singular else _PLURAL_ACTIONS)
    if api_only:
        actions = [a for a in actions if a not in ("new", "edit")]
    only = _names(call.option("only"))
    excepted = _names(call.option("except"))
    if call.option("only") is not None:
        actions = [a for a in (_SINGULAR_ACTIONS if singular else _PLURAL_ACTIONS) if a in only]
    return [a for a in actions if a not in excepted]


def _target(target: RbValue | None, call: Call) -> tuple[str, str]:
    text = _string(target)
    if "#" in text:
        controller, _, action = text.partition("#")
        return controller, action
    return _string(call.option("controller")), _string(call.option("action"))


def _via(value: RbValue | None) -> list[str]:
    names = _names(value)
    if "all" in names or not names:
        return ["ANY"]
    return sorted(n.upper() for n in names)


def _names(value: RbValue | None) -> set[str]:
    if value is None:
        return set()
    if value[0] in ("sym", "str"):
        return {str(value[1])}
    if value[0] == "arr":
        return {str(v[1]) for v in value[1] if v[0] in ("sym", "str")}
    return set()


def _hash(value: RbValue | None) -> list[tuple[str, str]]:
    if value is None or value[0] != "hash":
        return []
    return [(key.lstrip("=>").strip(":'\""), _string(v)) for key, v in value[1]]


def _string(value: RbValue | None) -> str:
    if value is None or value[0] not in ("sym", "str", "const"):
        return ""
    return str(value[1])


def _join(base: str, path: str) -> str:
    if not path:
        return base
    if not base:
        return path.strip("/")
    return base.rstrip("/") + "/" + path.strip("/")


def _drop_optional(path: str) -> str:
    """``(:locale)`` and ``(.:format)`` segments are optional: the route exists without them."""
    return re.sub(r"\([^()]*\)", "", path)


def singularise(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _pluralise(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "sh", "ch", "x")):
        return word + "es"
    return word + "s"
