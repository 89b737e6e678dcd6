"""Readers of manifests and lockfiles (package.json, pyproject.toml, Pipfile, setup.cfg/py,
requirements*.txt, go.mod, Gemfile(.lock), compose files, schema.prisma): each adds the facts
it finds, with its evidence, to the component that owns the file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from backend_agent.analysis.inputs import (
    check_go_mod,
    check_prisma,
    check_ruby,
    load_ini,
    load_json,
    load_toml,
    load_yaml,
)
from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.catalog import job_framework
from backend_agent.analysis.stack.catalog import GO, IMAGES, NODE, PYTHON, RUBY, Catalog
from backend_agent.analysis.stack.model import Component


def is_requirements(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.suffix in (".txt", ".in") and (
        pure.name.startswith("requirements") or pure.parent.name == "requirements"
    )


def add_dependencies(
    component: Component, catalog: Catalog, names: Iterable[str], manifest: str
) -> None:
    for name in names:
        framework = job_framework(name)
        if framework is not None:
            component.add("job_frameworks", framework, f"{manifest}: {name}")
        hit = catalog.get(name) or _prefix_hit(catalog, name)
        if hit is not None:
            category, shown = hit
            if category == "test_runners":
                component.add("test_tools", shown, f"{manifest}: {name}")
            else:
                component.add(category, shown, f"{manifest}: {name}")


def _prefix_hit(catalog: Catalog, name: str) -> tuple[str, str] | None:
    """Go modules carry major versions and subpackages (``.../echo/v4``): match by prefix."""
    if "/" not in name:
        return None
    for key, hit in catalog.items():
        if "/" in key and name.startswith(key + "/"):
            return hit
    return None


# --- Node.js -------------------------------------------------------------------------------


def _read_package_json(project: Project, path: str, component: Component) -> None:
    data = load_json(project, path)
    if not isinstance(data, dict):
        return
    deps: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        section = data.get(key)
        if isinstance(section, dict):
            deps.update(section)
    component.add("languages", "JavaScript", path)
    if "typescript" in deps:
        component.add("languages", "TypeScript", f"{path}: typescript")
    add_dependencies(component, NODE, sorted(deps), path)
    manager = data.get("packageManager")
    if isinstance(manager, str) and manager:
        component.add("package_managers", manager.split("@")[0], f"{path}: packageManager")
    workspaces = data.get("workspaces")
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if isinstance(workspaces, list):
        component.workspaces = [w for w in workspaces if isinstance(w, str)]
    scripts = data.get("scripts")
    if isinstance(scripts, dict):
        component.scripts = {k: v for k, v in scripts.items() if isinstance(v, str)}


# --- Python --------------------------------------------------------------------------------

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQUIREMENT.match(line)
        if match:
            names.append(_normalise(match.group(1)))
    return names


def _read_pyproject(project: Project, path: str, component: Component) -> None:
    data = load_toml(project, path)
    tool = data.get("tool", {})
    requirements: list[str] = list(data.get("project", {}).get("dependencies", []))
    for group in data.get("project", {}).get("optional-dependencies", {}).values():
        requirements.extend(group)
    for group in data.get("dependency-groups", {}).values():
        requirements.extend(r for r in group if isinstance(r, str))
    names = requirement_names("\n".join(r for r in requirements if isinstance(r, str)))
    poetry = tool.get("poetry", {})
    if poetry:
        component.add("package_managers", "poetry", f"{path}: [tool.poetry]")
        names += [_normalise(n) for n in poetry.get("dependencies", {})]
        for group in poetry.get("group", {}).values():
            names += [_normalise(n) for n in group.get("dependencies", {})]
        names += [_normalise(n) for n in poetry.get("dev-dependencies", {})]
    if "uv" in tool:
        component.add("package_managers", "uv", f"{path}: [tool.uv]")
    if "pdm" in tool:
        component.add("package_managers", "pdm", f"{path}: [tool.pdm]")
    if "pytest" in tool:
        component.add("test_tools", "pytest", f"{path}: [tool.pytest]")
    component.add("languages", "Python", path)
    if not poetry and "uv" not in tool and "pdm" not in tool:
        component.add("package_managers", "pip", path)
    add_dependencies(component, PYTHON, names, path)


def _read_pipfile(project: Project, path: str, component: Component) -> None:
    data = load_toml(project, path)
    names = [_normalise(n) for key in ("packages", "dev-packages") for n in data.get(key, {})]
    component.add("languages", "Python", path)
    component.add("package_managers", "pipenv", path)
    add_dependencies(component, PYTHON, names, path)


def _read_setup_cfg(project: Project, path: str, component: Component) -> None:
    parser = load_ini(project, path)
    if parser is None:
        return
    text = parser.get("options", "install_requires", fallback="")
    for section in ("options.extras_require",):
        if parser.has_section(section):
            text += "\n" + "\n".join(v for _, v in parser.items(section))
    if parser.has_section("tool:pytest"):
        component.add("test_tools", "pytest", f"{path}: [tool:pytest]")
    if text.strip() or parser.has_section("metadata"):
        component.add("languages", "Python", path)
        component.add("package_managers", "pip", path)
    add_dependencies(component, PYTHON, requirement_names(text), path)


_SETUP_PY_REQUIRES = re.compile(r"(?:install_requires|tests_require)\s*=\s*\[([^\]]*)\]", re.S)


def _read_setup_py(project: Project, path: str, component: Component) -> None:
    quoted = re.compile(r"['\"]([^'\"]+)['\"]")
    lists = _SETUP_PY_REQUIRES.findall(project.read_text(path))
    names = requirement_names("\n".join(m for block in lists for m in quoted.findall(block)))
    component.add("languages", "Python", path)
    component.add("package_managers", "pip", path)
    add_dependencies(component, PYTHON, names, path)


# --- Go ------------------------------------------------------------------------------------

_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([a-zA-Z0-9.\-_~]+\.[a-z]+/[^\s]+)\s+v", re.M)


def _read_go_mod(project: Project, path: str, component: Component) -> None:
    component.add("languages", "Go", path)
    component.add("package_managers", "go modules", path)
    add_dependencies(component, GO, _GO_REQUIRE.findall(check_go_mod(project, path)), path)


# --- Ruby ----------------------------------------------------------------------------------

_GEM = re.compile(r"""^\s*gem\s+['"]([\w.-]+)['"]""", re.M)
_LOCKED_GEM = re.compile(r"^    ([\w.-]+) \(", re.M)


def _read_gemfile(project: Project, path: str, component: Component) -> None:
    component.add("languages", "Ruby", path)
    component.add("package_managers", "bundler", path)
    add_dependencies(component, RUBY, _GEM.findall(check_ruby(project, path)), path)


def _read_gemfile_lock(project: Project, path: str, component: Component) -> None:
    add_dependencies(component, RUBY, _LOCKED_GEM.findall(project.read_text(path)), path)


# --- Layout --------------------------------------------------------------------------------

_IMAGE = re.compile(r"^\s*image:\s*['\"]?([\w./-]+)", re.M)
_PRISMA_PROVIDER = re.compile(r"provider\s*=\s*\"(postgresql|mysql|sqlite|sqlserver|mongodb)\"")
_PRISMA_DATABASES = {
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "sqlite": "SQLite",
    "mongodb": "MongoDB",
    "sqlserver": "SQL Server",
}


def read_compose(project: Project, path: str, component: Component) -> None:
    load_yaml(project, path)  # a note when it is not valid YAML
    for image in _IMAGE.findall(project.read_text(path)):
        repository = image.split(":")[0]
        hit = IMAGES.get(repository) or IMAGES.get(repository.removeprefix("library/"))
        if hit is not None:
            component.add(hit[0], hit[1], f"{path}: image {image}")


def read_prisma_schema(project: Project, path: str, component: Component) -> None:
    for provider in _PRISMA_PROVIDER.findall(check_prisma(project, path)):
        component.add("databases", _PRISMA_DATABASES[provider], f"{path}: provider")


READERS: dict[str, Callable[[Project, str, Component], None]] = {
    "package.json": _read_package_json,
    "pyproject.toml": _read_pyproject,
    "Pipfile": _read_pipfile,
    "setup.cfg": _read_setup_cfg,
    "setup.py": _read_setup_py,
    "go.mod": _read_go_mod,
    "Gemfile": _read_gemfile,
    "Gemfile.lock": _read_gemfile_lock,
}
