"""Django and Django REST framework: urlpatterns across apps (include, ROOT_URLCONF), DRF
routers and ViewSets expanded to verbs, APIView methods, permission classes and defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from backend_agent.analysis.endpoints.model import Auth, Endpoint, Unresolved, normalise_path
from backend_agent.analysis.endpoints.python.auth import by_name, drf_permissions
from backend_agent.analysis.endpoints.python.names import Names, Target
from backend_agent.analysis.endpoints.python.scan import Expr, Facts

VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
# What DRF/Django base classes provide: viewset actions or view methods.
BASE_ACTIONS: dict[str, tuple[str, ...]] = {
    "ListModelMixin": ("list",),
    "CreateModelMixin": ("create",),
    "RetrieveModelMixin": ("retrieve",),
    "UpdateModelMixin": ("update", "partial_update"),
    "DestroyModelMixin": ("destroy",),
    "ModelViewSet": ("list", "create", "retrieve", "update", "partial_update", "destroy"),
    "ReadOnlyModelViewSet": ("list", "retrieve"),
    "ListAPIView": ("get",),
    "CreateAPIView": ("post",),
    "ListCreateAPIView": ("get", "post"),
    "RetrieveAPIView": ("get",),
    "UpdateAPIView": ("put", "patch"),
    "DestroyAPIView": ("delete",),
    "RetrieveUpdateAPIView": ("get", "put", "patch"),
    "RetrieveDestroyAPIView": ("get", "delete"),
    "RetrieveUpdateDestroyAPIView": ("get", "put", "patch", "delete"),
    "TemplateView": ("get",),
    "RedirectView": ("get",),
}
LIST_ACTIONS = {"list": "GET", "create": "POST"}
DETAIL_ACTIONS = {
    "retrieve": "GET",
    "update": "PUT",
    "partial_update": "PATCH",
    "destroy": "DELETE",
}
DRF_BASES = frozenset(
    {
        "APIView",
        "GenericAPIView",
        "ViewSet",
        "GenericViewSet",
        "ModelViewSet",
        "ReadOnlyModelViewSet",
        "ViewSetMixin",
    }
) | {k for k in BASE_ACTIONS if "API" in k}
ROUTE_FUNCTIONS = frozenset({"path", "re_path", "url"})
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")
_REGEX_LEFTOVER = re.compile(r"[()\[\]*+?|\\^$]")


@dataclass
class ClassView:
    """A class-based view with its methods (own and inherited) and everything about auth."""

    target: Target
    methods: set[str] = field(default_factory=set)
    actions: dict[str, tuple[bool, tuple[str, ...], str, int]] = field(default_factory=dict)
    base_names: set[str] = field(default_factory=set)
    permissions: list[str] | None = None
    auth: list[Auth] = field(default_factory=list)

    @property
    def is_drf(self) -> bool:
        return bool(self.base_names & DRF_BASES)


class DjangoResolver:
    """Walks urlpatterns from the root URLconf, expanding includes, routers and views."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.endpoints: list[Endpoint] = []
        self.unresolved: list[Unresolved] = []
        self.default_permissions = self._default_permissions()

    def resolve(self) -> None:
        for root in self._roots():
            self._walk(root, "", "", 0)

    def _roots(self) -> list[str]:
        for path, facts in self.names.facts.items():
            value = facts["assigns"].get("", {}).get("ROOT_URLCONF")
            if value is not None:
                dotted = self.names.string(path, "", value)
                found = self.names.module_path(dotted) if dotted else None
                if found is not None:
                    return [found]
        modules = [
            p for p, f in self.names.facts.items() if "urlpatterns" in f["assigns"].get("", {})
        ]
        included: set[str] = set()
        for path in modules:
            for item in self._patterns(path):
                for sub in _include_targets(item):
                    dotted = self.names.string(path, "", sub)
                    found = self.names.module_path(dotted) if dotted else None
                    target = self.names.target(path, "", sub)
                    if found:
                        included.add(found)
                    elif target is not None and target.kind == "module":
                        included.add(target.path)
        return [p for p in modules if p not in included]

    def _default_permissions(self) -> list[str] | None:
        """DRF's DEFAULT_PERMISSION_CLASSES; its default (AllowAny) when a settings module
        exists without it; None (auth unknown) when the repository holds no settings."""
        has_settings = False
        for path, facts in self.names.facts.items():
            module = facts["assigns"].get("", {})
            config = module.get("REST_FRAMEWORK")
            if config is not None and config[0] == "d":
                value = config[1].get("DEFAULT_PERMISSION_CLASSES")
                if value is None:
                    return ["AllowAny"]
                return [n.rsplit(".", 1)[-1] for n in self._strings_or_names(path, "", value)]
            has_settings = has_settings or "INSTALLED_APPS" in module
        return ["AllowAny"] if has_settings else None

    def _patterns(self, path: str) -> list[Expr]:
        assigns = self.names.facts[path]["assigns"].get("", {})
        values = [
            assigns["urlpatterns"],
            *self.names.facts[path]["extends"].get("", {}).get("urlpatterns", []),
        ]
        items: list[Expr] = []
        for value in values:
            items.extend(value[1] if value[0] == "l" else [value])
        return items

    def _walk(self, path: str, prefix: str, fragment: str, depth: int) -> None:
        if depth > 8 or "urlpatterns" not in self.names.facts[path]["assigns"].get("", {}):
            return
        for item in self._patterns(path):
            self._entry(path, item, prefix, fragment, depth)

    def _entry(self, path: str, item: Expr, prefix: str, fragment: str, depth: int) -> None:
        if item[0] == "a" and item[2] == "urls":
            self._router(path, item[1], prefix, fragment)
            return
        if item[0] != "c":
            return
        function = self.names.callee(path, "", item)
        if function not in ROUTE_FUNCTIONS or len(item[2]) < 2:
            return
        route_text = self.names.string(path, "", item[2][0])
        view = item[2][1]
        line = int(item[4])
        if route_text is None:
            self.unresolved.append(
                Unresolved(path, line, fragment + "{?}", "URL route is not a constant")
            )
            return
        route = _regex_route(route_text) if function != "path" else route_text
        if route is None:
            self.unresolved.append(
                Unresolved(
                    path, line, fragment + route_text, "regular-expression route with no fixed form"
                )
            )
            return
        full = prefix + route
        if view[0] == "c" and self.names.callee(path, "", view) == "include" and view[2]:
            self._include(path, view[2][0], full, fragment + route, depth)
        else:
            self._view(path, view, full, line)

    def _include(self, path: str, arg: Expr, prefix: str, fragment: str, depth: int) -> None:
        if arg[0] == "l" and arg[1] and arg[1][0][0] != "c":
            arg = arg[1][0]  # include((patterns, app_name))
        if arg[0] == "l":
            for item in arg[1]:
                self._entry(path, item, prefix, fragment, depth + 1)
            return
        if arg[0] == "a" and arg[2] == "urls":
            self._router(path, arg[1], prefix, fragment)
            return
        dotted = self.names.string(path, "", arg)
        found = self.names.module_path(dotted) if dotted else None
        if found is None:
            target = self.names.target(path, "", arg)
            if target is not None and target.kind == "module":
                found = target.path
            elif target is not None and target.kind == "bind":
                self._include(target.path, self.names.value_of(target), prefix, fragment, depth + 1)
                return
        if found is None:
            if dotted is None or dotted.split(".")[0] in ("django", "rest_framework"):
                return
            self.unresolved.append(
                Unresolved(
                    path, 0, fragment + "{?}", f"included URLconf {dotted} is not in the repository"
                )
            )
            return
        self._walk(found, prefix, fragment, depth + 1)

    def _router(self, path: str, router_expr: Expr, prefix: str, fragment: str) -> None:
        router = self.names.target(path, "", router_expr)
        if router is None or router.kind != "bind":
            return
        for facts_path, facts in self.names.facts.items():
            for scope, call in facts["calls"]:
                func = call[1]
                if func[0] != "a" or func[2] != "register" or len(call[2]) < 2:
                    continue
                target = self.names.target(facts_path, scope, func[1])
                if target is None or target.id != router.id:
                    continue
                register_prefix = self.names.string(facts_path, scope, call[2][0])
                if register_prefix is None:
                    self.unresolved.append(
                        Unresolved(
                            facts_path,
                            int(call[4]),
                            fragment + "{?}",
                            "router prefix is not a constant",
                        )
                    )
                    continue
                self._viewset(
                    facts_path,
                    scope,
                    call[2][1],
                    prefix + register_prefix.strip("^$"),
                    int(call[4]),
                )

    def _viewset(self, path: str, scope: str, view_expr: Expr, base: str, line: int) -> None:
        view = self._class_view(path, scope, view_expr)
        if view is None:
            return
        lookup = self._lookup(view.target)
        handler = self._handler(view.target)
        line = self.names.facts[view.target.path]["classes"][view.target.name]["line"]
        for action, verb in LIST_ACTIONS.items():
            if action in view.methods:
                self._emit(verb, base, view, handler, view.target.path, line)
        for action, verb in DETAIL_ACTIONS.items():
            if action in view.methods:
                self._emit(verb, f"{base}/{{{lookup}}}", view, handler, view.target.path, line)
        for name, (detail, verbs, url_path, action_line) in view.actions.items():
            route = f"{base}/{{{lookup}}}/{url_path}" if detail else f"{base}/{url_path}"
            for verb in verbs:
                self._emit(verb, route, view, f"{handler}.{name}", view.target.path, action_line)

    def _view(self, path: str, view: Expr, route: str, line: int) -> None:
        """Endpoints of one urlpattern's view: a class (``X.as_view()``) or a function."""
        if view[0] == "c" and view[1][0] == "a" and view[1][2] == "as_view":
            self._class_view_route(path, view, route)
            return
        target = self.names.target(path, "", view)
        if target is None or target.kind != "func":
            return
        func = self.names.facts[target.path]["functions"][target.name]
        view_like = ClassView(Target("func", target.path, name=target.name), auth=[])
        verbs = ["ANY"]
        for decorator in func["decorators"]:
            verbs = self._function_decorator(target.path, decorator, view_like) or verbs
        handler = f"{self.names.module_name(target.path)}.{target.name}"
        for verb in verbs:
            self._emit(verb, route, view_like, handler, target.path, func["line"])

    def _class_view_route(self, path: str, view: Expr, route: str) -> None:
        cls_view = self._class_view(path, "", view[1][1])
        if cls_view is None:
            return
        mapping = view[2][0] if view[2] and view[2][0][0] == "d" else None
        if mapping is not None:  # ViewSet.as_view({"get": "list", ...})
            verbs = [v.upper() for v in mapping[1] if v in VERBS]
        else:
            verbs = [v.upper() for v in VERBS if v in cls_view.methods]
        cls = cls_view.target
        line = self.names.facts[cls.path]["classes"][cls.name]["line"]
        for verb in verbs:
            self._emit(verb, route, cls_view, self._handler(cls), cls.path, line)

    def _function_decorator(self, path: str, decorator: Expr, view: ClassView) -> list[str]:
        """Verbs a function view's decorator allows (empty: it says nothing about verbs);
        records DRF-ness, permission classes and auth decorators on ``view``."""
        name = self.names.callee(path, "", decorator) if decorator[0] == "c" else _last(decorator)
        argument = decorator[2][0] if decorator[0] == "c" and decorator[2] else None
        if name == "api_view":
            view.base_names.add("APIView")
            keywords = decorator[3] if decorator[0] == "c" else {}
            methods = argument or keywords.get("http_method_names", ("l", [("s", "GET")]))
            return [v.upper() for v in self._strings_or_names(path, "", methods)]
        if name == "require_http_methods" and argument is not None:
            return [v.upper() for v in self._strings_or_names(path, "", argument)]
        fixed = {"require_GET": ["GET"], "require_POST": ["POST"], "require_safe": ["GET", "HEAD"]}
        if name in fixed:
            return fixed[name]
        if name == "permission_classes" and argument is not None:
            names = self._strings_or_names(path, "", argument)
            view.permissions = [n.rsplit(".", 1)[-1] for n in names]
        elif (state := by_name(name)) is not None:
            view.auth.append(state)
        return []

    def _emit(
        self, verb: str, route: str, view: ClassView, handler: str, file: str, line: int
    ) -> None:
        auth = self._auth(view, verb)
        framework = "drf" if view.is_drf else "django"
        self.endpoints.append(
            Endpoint("rest", verb, normalise_path(route), auth, framework, handler, file, line)
        )

    def _auth(self, view: ClassView, verb: str) -> Auth:
        if "required" in view.auth:
            return "required"
        if view.is_drf:
            permissions = (
                view.permissions if view.permissions is not None else self.default_permissions
            )
            if permissions is None:
                return "unknown"
            return drf_permissions(permissions, verb)
        return "optional" if "optional" in view.auth else "none"

    def _class_view(self, path: str, scope: str, view_expr: Expr) -> ClassView | None:
        target = self.names.target(path, scope, view_expr)
        if target is None or target.kind != "class":
            return None
        view = ClassView(target)
        self._inherit(view, target, 0)
        return view

    def _inherit(self, view: ClassView, target: Target, depth: int) -> None:
        """Collect methods, actions, base names and permissions from the class and its bases."""
        cls = self.names.facts[target.path]["classes"][target.name]
        view.base_names.add(target.name)
        for name, method in cls["methods"].items():
            view.methods.add(name)
            for decorator in method["decorators"]:
                self._action(view, target.path, name, method, decorator)
        if view.permissions is None and "permission_classes" in cls["attrs"]:
            value = cls["attrs"]["permission_classes"][0]
            view.permissions = [
                n.rsplit(".", 1)[-1] for n in self._strings_or_names(target.path, "", value)
            ]
        if "get_permissions" in cls["methods"] and view.permissions is None:
            view.permissions = ["get_permissions"]
        for decorator in cls["decorators"]:
            if (
                decorator[0] == "c"
                and self.names.callee(target.path, "", decorator) == "method_decorator"
                and decorator[2]
            ):
                state = by_name(_last(decorator[2][0]))
                if state is not None:
                    view.auth.append(state)
        for base in cls["bases"]:
            found = self.names.target(target.path, "", base)
            if found is not None and found.kind == "class" and depth < 8:
                self._inherit(view, found, depth + 1)
                continue
            name = found.name.rsplit(".", 1)[-1] if found is not None else _last(base)
            view.base_names.add(name)
            view.methods.update(BASE_ACTIONS.get(name, ()))
            if name in ("LoginRequiredMixin", "PermissionRequiredMixin"):
                view.auth.append("required")

    def _action(
        self, view: ClassView, path: str, name: str, method: Facts, decorator: Expr
    ) -> None:
        if decorator[0] != "c" or self.names.callee(path, "", decorator) not in (
            "action",
            "detail_route",
            "list_route",
        ):
            return
        kwargs = decorator[3]
        detail = (
            kwargs.get("detail") == ("k", "True")
            or self.names.callee(path, "", decorator) == "detail_route"
        )
        verbs = tuple(
            v.upper()
            for v in self._strings_or_names(path, "", kwargs.get("methods", ("l", [("s", "get")])))
        )
        url_path = self.names.string(path, "", kwargs["url_path"]) if "url_path" in kwargs else name
        view.actions[name] = (detail, verbs, url_path or name, method["line"])

    def _lookup(self, target: Target) -> str:
        for attr in ("lookup_url_kwarg", "lookup_field"):
            found = self.names.class_attr(target.path, target.name, attr, 0)
            if found is not None and found.value is not None:
                text = self.names.string(found.path, "", found.value)
                if text:
                    return text
        return "pk"

    def _strings_or_names(self, path: str, scope: str, value: Expr) -> list[str]:
        if value[0] in ("n", "a"):
            found = self.names.target(path, scope, value)
            if found is not None and found.kind == "bind":
                return self._strings_or_names(found.path, found.scope, self.names.value_of(found))
        items = value[1] if value[0] == "l" else [value]
        out = []
        for item in items:
            text = self.names.string(path, scope, item) if item[0] in ("s", "j") else None
            out.append(text if text is not None else _last(item))
        return out

    def _handler(self, target: Target) -> str:
        return f"{self.names.module_name(target.path)}.{target.name}"


def _include_targets(item: Expr) -> list[Expr]:
    if item[0] == "c" and len(item[2]) >= 2:
        view = item[2][1]
        if view[0] == "c" and view[1] == ("n", "include") and view[2]:
            return [view[2][0]]
    return []


def _regex_route(pattern: str) -> str | None:
    """A Django regex route as a plain path with ``{name}`` parameters, if it has one."""
    text = pattern.lstrip("^").rstrip("$")
    text = re.sub(r"/\?$", "/", text)
    text = _NAMED_GROUP.sub(lambda m: "{" + m.group(1) + "}", text)
    text = text.replace(r"\.", ".").replace(r"\-", "-")
    if _REGEX_LEFTOVER.search(text.replace("{", "").replace("}", "")):
        return None
    return text


def _last(value: Expr) -> str:
    if value[0] == "n":
        return str(value[1])
    if value[0] == "a":
        return str(value[2])
    if value[0] == "c":
        return _last(value[1])
    if value[0] == "s":
        return str(value[1]).rsplit(".", 1)[-1]
    return ""
