"""The shell parser (bashlex, in a worker process) runs only when a rule needs its answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DECIDE = """
import json, sys
from pathlib import Path
from backend_agent.permissions import shell
from backend_agent.permissions.decisions import PermissionEngine
from backend_agent.permissions.paths import Workspace
from backend_agent.permissions.rules import RuleSet, parse_rule

project = Path(sys.argv[1])
mode, deny = sys.argv[2], sys.argv[3:]
rules = RuleSet()
for text in deny:
    rules.add("deny", parse_rule(text, source="test", root=project, cwd=project))
engine = PermissionEngine(mode, rules, Workspace.create(project), sandboxed=lambda: False)
verdicts = [
    engine.decide("Bash", {"command": line}, cwd=project, shell_cwd=project).behavior
    for line in ("ls && rm -rf build", "echo $(cat /etc/hostname) | wc -c")
]
print(json.dumps({
    "verdicts": verdicts,
    "bashlex_loaded": "bashlex" in sys.modules,
    "worker_started": shell._PARSER._process is not None,
}))
"""


def decide(project: Path, mode: str, *deny: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", DECIDE, str(project), mode, *deny],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(("mode", "verdict"), [("bypassPermissions", "allow"), ("plan", "deny")])
def test_without_bash_deny_rules_the_mode_decides_and_nothing_is_parsed(
    tmp_path: Path, mode: str, verdict: str
) -> None:
    result = decide(tmp_path, mode)

    assert result["verdicts"] == [verdict, verdict]
    assert result["bashlex_loaded"] is False and result["worker_started"] is False


def test_a_bash_deny_rule_still_has_every_command_checked_in_bypass_mode(tmp_path: Path) -> None:
    result = decide(tmp_path, "bypassPermissions", "Bash(rm:*)")

    assert result["verdicts"] == ["deny", "allow"]
    assert result["worker_started"] is True
    assert result["bashlex_loaded"] is False  # only the worker process imports the parser
