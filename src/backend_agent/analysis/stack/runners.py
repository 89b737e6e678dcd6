"""The commands that run a component's tests, from its manifests, scripts and layout."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from backend_agent.analysis.stack.catalog import NODE_MANAGERS
from backend_agent.analysis.stack.manifests import is_requirements
from backend_agent.analysis.stack.model import Component, TestRunner
from backend_agent.analysis.stack.scripts import script_runners

DEFAULT_NPM_TEST = "no test specified"


def test_runners(component: Component, files: list[str]) -> list[TestRunner]:
    """The commands that run this component's tests, found from its manifests and layout."""
    inside = [f for f in files if _within(f, component.path)]
    runners: list[TestRunner] = []
    manifests = {PurePosixPath(m).name for m in component.manifests}
    if "package.json" in manifests:
        runners += _node_runners(component)
    python_manifests = manifests - {"package.json", "go.mod", "Gemfile"}
    if python_manifests or any(is_requirements(m) for m in component.manifests):
        runners += _python_runners(component, inside)
    if "go.mod" in manifests and any(f.endswith("_test.go") for f in inside):
        runners.append(TestRunner("go test", ("go", "test", "./..."), component.path, "go.mod"))
    if "Ruby" in component.names("languages"):
        runners += _ruby_runners(component, inside)
    return runners


def _within(path: str, directory: str) -> bool:
    return directory == "." or path.startswith(directory + "/")


def _relative(path: str, directory: str) -> str:
    return path if directory == "." else path[len(directory) + 1 :]


# How to run a test tool directly when there is no test script.
_DIRECT = {
    "jest": ("jest",),
    "vitest": ("vitest", "run"),
    "mocha": ("mocha",),
    "tap": ("tap",),
    "ava": ("ava",),
    "playwright": ("playwright", "test"),
    "cypress": ("cypress", "run"),
}


def _node_runners(component: Component) -> list[TestRunner]:
    """``npm test`` named after the runner its script really ends in; without a test script,
    each test tool the package depends on, run directly."""
    manifest = next(m for m in component.manifests if m.endswith("package.json"))
    manager = _node_manager(component)
    tools = component.names("test_tools")
    test_script = component.scripts.get("test", "")
    if test_script and DEFAULT_NPM_TEST not in test_script:
        found = script_runners(component.scripts)
        if found:
            name = found[0].name
            evidence = f"{manifest}: scripts." + " → scripts.".join(found[0].path) + f": {name}"
        else:
            name = tools[0] if len(tools) == 1 else "script"
            evidence = f"{manifest}: scripts.test"
        argv: tuple[str, ...] = ("bun", "run", "test") if manager == "bun" else (manager, "test")
        return [TestRunner(name, argv, component.path, evidence)]
    runners = []
    for tool in tools:
        if tool in _DIRECT:
            argv = ("npx", "--no-install", *_DIRECT[tool])
            runners.append(TestRunner(tool, argv, component.path, f"{manifest}: {tool}"))
    return runners


def _python_runners(component: Component, inside: list[str]) -> list[TestRunner]:
    managers = component.names("package_managers")
    prefix: tuple[str, ...] = ("python", "-m")
    for manager in ("poetry", "uv", "pipenv", "pdm"):
        if manager in managers:
            prefix = (manager, "run", "python", "-m")
            break
    rel = [_relative(f, component.path) for f in inside]
    has_pytest_layout = any(PurePosixPath(f).name in ("conftest.py", "pytest.ini") for f in rel)
    test_files = [f for f in rel if re.search(r"(^|/)(test_[^/]*|[^/]*_test)\.py$", f)]
    if "pytest" in component.names("test_tools") or has_pytest_layout:
        why = component.facts.get("test_tools", {}).get("pytest", "conftest.py/pytest.ini")
        return [TestRunner("pytest", (*prefix, "pytest"), component.path, why)]
    if "Django" in component.names("frameworks") and "manage.py" in rel:
        return [TestRunner("django", ("python", "manage.py", "test"), component.path, "manage.py")]
    if test_files:
        argv = (*prefix, "unittest", "discover", "-p", "test*.py")
        return [TestRunner("unittest", argv, component.path, test_files[0])]
    return []


def _ruby_runners(component: Component, inside: list[str]) -> list[TestRunner]:
    rel = [_relative(f, component.path) for f in inside]
    bundle: tuple[str, ...] = ("bundle", "exec") if "Gemfile" in rel else ()
    tools = component.names("test_tools")
    runners = []
    specs = [f for f in rel if f.endswith("_spec.rb")]
    if "rspec" in tools or ".rspec" in rel or specs:
        why = specs[0] if specs else ".rspec"
        runners.append(TestRunner("rspec", (*bundle, "rspec"), component.path, why))
    minitests = [f for f in rel if re.search(r"(^|/)test/.*_test\.rb$|(^|/)test_[^/]*\.rb$", f)]
    if minitests:
        if "Rails" in component.names("frameworks"):
            argv: tuple[str, ...] = ("bin/rails", "test")
        elif "Rakefile" in rel:
            argv = (*bundle, "rake", "test")
        else:
            loader = "ARGV.each { |f| require File.expand_path(f) }"
            argv = ("ruby", "-Itest", "-e", loader, *sorted(minitests))
        runners.append(TestRunner("minitest", argv, component.path, minitests[0]))
    return runners


def _node_manager(component: Component) -> str:
    managers = [m for m in component.names("package_managers") if m in NODE_MANAGERS]
    return managers[0] if managers else "npm"
