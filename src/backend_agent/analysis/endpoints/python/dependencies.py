"""Auth of Python routes from what runs before the handler: decorators (``login_required``,
``jwt_required(optional=True)``) and FastAPI dependencies, followed through other
dependencies and ``Annotated`` aliases."""

from __future__ import annotations

from backend_agent.analysis.endpoints.model import Auth
from backend_agent.analysis.endpoints.python.auth import by_name, combine
from backend_agent.analysis.endpoints.python.exprs import falsy, last_name, show, truthy
from backend_agent.analysis.endpoints.python.names import Names
from backend_agent.analysis.endpoints.python.scan import Expr, Facts


class DependencyAuth:
    """Reads auth signals of decorators and dependencies, resolving names across modules."""

    def __init__(self, names: Names) -> None:
        self.names = names

    def function_auth(self, path: str, fname: str, func: Facts) -> list[Auth]:
        states = [a for d in func["decorators"] if (a := self.decorator_auth(path, d))]
        for where, scope, dep in self._param_deps(path, func):
            state = self._depends_auth(where, scope, dep, 0)
            if state is not None:
                states.append(state)
        return states

    def _param_deps(self, path: str, func: Facts) -> list[tuple[str, str, Expr]]:
        """``Depends(...)`` of a function's parameters as (file, scope, call), including those
        in type aliases (``CurrentUser = Annotated[User, Depends(get_current_user)]``)."""
        deps = [(path, func["scope"], dep) for dep in func["deps"]]
        for annotation in func.get("annotations", []):
            found = self.names.target(path, func["scope"], annotation)
            if found is None or found.kind != "bind":
                continue
            alias = self.names.value_of(found)
            if alias[0] == "sub" and last_name(alias[1]) == "Annotated":
                deps += [(found.path, found.scope, item) for item in alias[2][1:] if item[0] == "c"]
        return deps

    def decorator_auth(self, path: str, decorator: Expr) -> Auth | None:
        call = decorator if decorator[0] == "c" else None
        name = (
            self.names.callee(path, "", decorator) if call else show(decorator).rsplit(".", 1)[-1]
        )
        if call is not None and name == "method_decorator" and call[2]:
            return self.decorator_auth(path, call[2][0])
        optional = call is not None and truthy(call[3].get("optional"))
        return by_name(name, optional)

    def dependency_auth(self, path: str, scope: str, value: Expr | None) -> list[Auth]:
        if value is None or value[0] != "l":
            return []
        return [s for dep in value[1] if (s := self._depends_auth(path, scope, dep, 0)) is not None]

    def _depends_auth(self, path: str, scope: str, dep: Expr, depth: int) -> Auth | None:
        """Auth implied by ``Depends(x)``: x's name, its arguments, else x's own dependencies."""
        if dep[0] != "c" or not dep[2] or depth > 4:
            return None
        inner = dep[2][0]
        optional = False
        if inner[0] == "c":
            kwargs = inner[3]
            optional = falsy(kwargs.get("required")) or falsy(kwargs.get("auto_error"))
            optional = optional or truthy(kwargs.get("optional"))
            if inner[2] and inner[2][0] == ("k", "False"):
                optional = True
            inner = inner[1]
        found = self.names.target(path, scope, inner)
        name = (
            found.name
            if found is not None and found.kind in ("func", "class", "external")
            else show(inner)
        )
        state = by_name(name.rsplit(".", 1)[-1], optional)
        if state is not None or found is None or found.kind != "func":
            return state
        func = self.names.facts[found.path]["functions"][found.name]
        nested = [
            state
            for where, scope, inner_dep in self._param_deps(found.path, func)
            if (state := self._depends_auth(where, scope, inner_dep, depth + 1)) is not None
        ]
        return combine(nested) if nested else None
