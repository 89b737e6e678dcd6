"""The public surface: exactly the names in ``__all__``, each documented; imported lazily yet
typed for mypy --strict; ``import backend_agent`` loads no model SDK, no MCP, no rich."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import backend_agent
import backend_agent.events
from backend_agent.runtime.events import AgentEvent

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DOCS = ROOT / "docs" / "sdk.md"
QUIET = ("--no-error-summary", "--cache-dir", os.devnull)
HEAVY = ("anthropic", "openai", "mcp", "mcp_types", "rich", "prompt_toolkit")


def documented_surface() -> set[str]:
    """The names the "public surface" section of docs/sdk.md lists as ``__all__``."""
    section = DOCS.read_text().split("## The public surface", 1)[1]
    listing = section.split("`backend_agent.__all__`:", 1)[1].split(". A test", 1)[0]
    return set(re.findall(r"`(\w+)`", listing))


PUBLIC = documented_surface()


def test_all_is_the_documented_surface_and_every_name_resolves() -> None:
    assert "open_session" in PUBLIC and "__version__" in PUBLIC
    assert set(backend_agent.__all__) == PUBLIC
    namespace: dict[str, object] = {}
    exec("from backend_agent import *", namespace)
    assert set(namespace) - {"__builtins__"} == PUBLIC
    for private in ("Agent", "SessionConfig", "CallbackApprover", "python_tools"):
        with pytest.raises(AttributeError, match=f"has no attribute '{private}'"):
            getattr(backend_agent, private)


def test_every_event_is_an_exported_frozen_dataclass() -> None:
    union = set(typing.get_args(AgentEvent))
    exported = {getattr(backend_agent.events, name) for name in backend_agent.events.__all__}
    assert exported == union | {backend_agent.events.Event}
    for event in union:
        assert dataclasses.is_dataclass(event) and event.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_every_public_name_is_documented() -> None:
    text = DOCS.read_text()
    names = (PUBLIC - {"__version__"}) | set(backend_agent.events.__all__)
    undocumented = [name for name in sorted(names) if not re.search(rf"`[^`]*\b{name}\b", text)]
    assert undocumented == []


def loaded_after(code: str) -> list[str]:
    """The heavy top-level packages loaded by a fresh interpreter after running ``code``."""
    listing = "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"{code}\nimport sys, json\n{listing}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return [name for name in json.loads(done.stdout.splitlines()[-1]) if name in HEAVY]


def test_importing_the_package_loads_no_sdk() -> None:
    assert loaded_after("import backend_agent") == []


def test_the_api_itself_loads_no_model_sdk_until_a_model_is_chosen() -> None:
    code = (
        "import backend_agent, backend_agent.events\n"
        "backend_agent.open_session; backend_agent.query; backend_agent.tool; backend_agent.Allow"
    )
    assert loaded_after(code) == []


def mypy(program: Path) -> subprocess.CompletedProcess[str]:
    """``mypy --strict`` on a user's program that imports the package from this source tree."""
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *QUIET, str(program)],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
        timeout=600,
        check=False,
    )


def test_a_typed_program_passes_mypy_strict() -> None:
    checked = mypy(HERE / "typed_program.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_mypy_sees_real_types_not_any() -> None:
    program = HERE / "typed_misuse.py"
    wrong = {
        number
        for number, line in enumerate(program.read_text().splitlines(), 1)
        if line.endswith("# wrong")
    }
    checked = mypy(program)
    reported = {
        int(match[1])
        for match in re.finditer(r"^typed_misuse\.py:(\d+): error:", checked.stdout, re.M)
    }
    assert reported == wrong, checked.stdout
