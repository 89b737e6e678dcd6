"""The evidence engine's shape: a public API in ``backend_agent.analysis``, commands that use
it, nothing in analysis/ that prints, and modules a reader can take in (under 500 lines)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import backend_agent.analysis as analysis

PACKAGE = Path(analysis.__file__).parent
COMMANDS = PACKAGE.parent / "commands"


@pytest.mark.parametrize("name", analysis.__all__)
def test_every_public_name_is_importable_from_the_package(name: str) -> None:
    value = getattr(analysis, name)
    assert value is not None and (callable(value) or isinstance(value, type))


def test_the_public_entry_points_are_the_documented_ones() -> None:
    assert {
        "Project", "detect_stack", "inventory", "diff_contracts", "database_impact",
        "security_findings", "build_report", "render",
    } <= set(analysis.__all__)  # fmt: skip
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = analysis.nothing_here  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_analysis_yet() -> None:
    """The entry points load on first use, so one scanner in a worker stays light."""
    code = (
        "import sys, backend_agent.analysis\n"
        "print(sorted(m for m in sys.modules if m.startswith('backend_agent.analysis.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_report_from_the_public_api(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/ping')\ndef ping():\n"
        "    return 'pong'\n"
    )
    project = analysis.Project(tmp_path)
    report = analysis.build_report(project)
    assert "`GET /ping`" in analysis.render(report, "md")
    assert [e.path for e in analysis.inventory(project).endpoints] == ["/ping"]
    assert analysis.detect_stack(project).languages == ["Python"]
    assert analysis.database_impact(project).migrations == []
    assert isinstance(analysis.security_findings(project), list)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]


@pytest.mark.parametrize("command", ["report.py", "stack.py", "tests.py", "db.py"])
def test_commands_use_the_public_api_not_deep_modules(command: str) -> None:
    for module in _imports(COMMANDS / command):
        if module.startswith("backend_agent.analysis"):
            depth = module.count(".")
            assert depth <= 2, f"{command} imports {module}"  # analysis or analysis.<package>


def _prints(path: Path) -> list[int]:
    """Lines that write to the terminal: print(), sys.stdout/sys.stderr, rich consoles."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        function = node.func if isinstance(node, ast.Call) else None
        if isinstance(function, ast.Name) and function.id in ("print", "Console"):
            lines.append(node.lineno)
        owner = node.value if isinstance(node, ast.Attribute) else None
        if isinstance(owner, ast.Name) and owner.id == "sys" and node.attr in ("stdout", "stderr"):
            lines.append(node.lineno)
    return lines


def test_nothing_in_analysis_prints_to_the_terminal() -> None:
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := _prints(path))
    }
    assert found == {}


OWN_PACKAGES = ("report", "stack", "database")  # endpoints/ and security/ have their owners


def test_modules_stay_under_500_lines() -> None:
    too_long = {
        str(path.relative_to(PACKAGE)): length
        for path in sorted(PACKAGE.rglob("*.py"))
        if (path.parent == PACKAGE or path.relative_to(PACKAGE).parts[0] in OWN_PACKAGES)
        and (length := len(path.read_text().splitlines())) > 500
    }
    assert too_long == {}


def test_build_report_runs_extra_section_builders(tmp_path: Path) -> None:
    from backend_agent.analysis.report import BuildContext, Row, Subsection

    (tmp_path / "worker.py").write_text("import pika\n")
    seen: list[BuildContext] = []

    def queues(context: BuildContext) -> Subsection | None:
        seen.append(context)
        rows = [Row(("consume",), path, 1) for path in context.project.files()]
        return Subsection("queues", "Queues & Jobs", "endpoints", ("Role",), rows)

    report = analysis.build_report(analysis.Project(tmp_path), sections=[queues, lambda c: None])
    assert [s.key for s in report.subsections] == ["queues"]
    assert seen[0].base is None and seen[0].changed is None
    assert "consume (`worker.py:1`)" in analysis.render(report, "md")
