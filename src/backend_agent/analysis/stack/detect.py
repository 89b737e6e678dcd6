"""Detect the stack of a repository: find its components (directories with a manifest), read
each file into the component that owns it, then work out each component's test runners."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from backend_agent.analysis.project import Project
from backend_agent.analysis.stack.catalog import (
    GOOSE_MARKER,
    LANGUAGE_SUFFIXES,
    LAYOUT,
    MANIFESTS,
    NODE_LOCKFILES,
    NODE_MANAGERS,
    PYTHON,
    PYTHON_LOCKFILES,
    TEST_DATA_DIRS,
)
from backend_agent.analysis.stack.manifests import (
    READERS,
    add_dependencies,
    is_requirements,
    read_compose,
    read_prisma_schema,
    requirement_names,
)
from backend_agent.analysis.stack.model import Component, Stack
from backend_agent.analysis.stack.runners import test_runners


def detect_stack(root: Path | Project) -> Stack:
    """Read the manifests, lockfiles and layout of a repository (working tree or revision)."""
    project = root if isinstance(root, Project) else Project(Path(root))
    files = [f for f in project.files() if not _is_test_data(f)]
    components = {d: Component(d) for d in _component_dirs(files)}
    for path in files:
        _read_file(project, path, components)
    for component in components.values():
        for language, count in component.source_files.items():
            component.add("languages", language, f"{count} source files")
        _inherit_package_manager(component, components)
        component.test_runners = test_runners(component, files)
    return Stack(project.root, [components[d] for d in sorted(components, key=_depth_then_name)])


def _depth_then_name(directory: str) -> tuple[int, str]:
    return (0 if directory == "." else directory.count("/") + 1, directory)


def _is_test_data(path: str) -> bool:
    """Files under fixtures/ or testdata/ describe other projects, not this one."""
    return any(part in TEST_DATA_DIRS for part in path.split("/")[:-1])


def _component_dirs(files: Iterable[str]) -> set[str]:
    dirs = set()
    for path in files:
        name = PurePosixPath(path).name
        if name in MANIFESTS or is_requirements(path):
            dirs.add(_manifest_dir(path))
    return dirs or {"."}


def _manifest_dir(path: str) -> str:
    parent = PurePosixPath(path).parent
    if parent.name == "requirements" and not PurePosixPath(path).name.startswith("requirements"):
        parent = parent.parent
    return parent.as_posix()


def _owner(path: str, components: dict[str, Component]) -> Component:
    """The deepest component containing ``path``."""
    parent = PurePosixPath(_manifest_dir(path))
    for candidate in [parent, *parent.parents]:
        key = candidate.as_posix()
        if key in components:
            return components[key]
    return components.setdefault(".", Component("."))


def _read_file(project: Project, path: str, components: dict[str, Component]) -> None:
    name = PurePosixPath(path).name
    owner = _owner(path, components)
    language = LANGUAGE_SUFFIXES.get(PurePosixPath(path).suffix)
    if language and not _is_generated(path):
        owner.source_files[language] += 1
    for pattern, category, tool in LAYOUT:
        if pattern.search(path):
            owner.add(category, tool, path)
    reader = READERS.get(name)
    if name in MANIFESTS:
        owner.manifests.append(path)
    if reader is not None:
        reader(project, path, owner)
    elif is_requirements(path):
        owner.manifests.append(path)
        owner.add("package_managers", "pip", path)
        add_dependencies(owner, PYTHON, requirement_names(project.read_text(path)), path)
    elif name in NODE_LOCKFILES:
        owner.add("package_managers", NODE_LOCKFILES[name], path)
    elif name in PYTHON_LOCKFILES:
        owner.add("package_managers", PYTHON_LOCKFILES[name], path)
    elif name.startswith(("docker-compose", "compose")) and name.endswith((".yml", ".yaml")):
        read_compose(project, path, owner)
    elif path.endswith(".sql") and GOOSE_MARKER.search(project.read_text(path)):
        owner.add("migration_tools", "goose", path)
    elif name == "schema.prisma":
        read_prisma_schema(project, path, owner)


def _is_generated(path: str) -> bool:
    return path.endswith((".min.js", ".d.ts"))


def _inherit_package_manager(component: Component, components: dict[str, Component]) -> None:
    """Workspace packages use the lockfile (package manager) of an enclosing component."""
    has_node = any(m.endswith("package.json") for m in component.manifests)
    has_manager = any(m in NODE_MANAGERS for m in component.names("package_managers"))
    if not has_node or has_manager:
        return
    parent = PurePosixPath(component.path)
    for candidate in parent.parents if component.path != "." else []:
        outer = components.get(candidate.as_posix())
        if outer is None:
            continue
        for name, evidence in outer.facts.get("package_managers", {}).items():
            if name in NODE_MANAGERS:
                component.add("package_managers", name, evidence)
                return
    manifest = next(m for m in component.manifests if m.endswith("package.json"))
    component.add("package_managers", "npm", manifest)
