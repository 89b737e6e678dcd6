"""Plan mode is read-only: no sequence of tool calls changes a file, even if the user says yes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend_agent.messages import ToolUseBlock
from backend_agent.permissions import PermissionOptions, prepare_permissions
from backend_agent.permissions.approval import Approval, ApprovalRequest
from backend_agent.tools import ToolSession

PATHS = st.sampled_from(
    ["src/app.py", "new.py", "src", ".git/config", "../outside/data.txt", "link/data.txt", "."]
)
COMMANDS = st.sampled_from(
    [
        "rm -rf src",
        "echo pwned > src/app.py",
        "touch created.txt",
        "mkdir made",
        "git init -q again",
        "python3 -c \"open('py.txt', 'w').write('x')\"",
        "cat src/app.py",
        "ls",
        "sed -i s/app/pwned/ src/app.py",
        "echo x > ../outside/data.txt",
    ]
)
TEXT = st.sampled_from(["app", "print", "", "pwned\n"])


def _calls() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return st.one_of(
        st.tuples(st.just("Read"), st.fixed_dictionaries({"file_path": PATHS})),
        st.tuples(st.just("Write"), st.fixed_dictionaries({"file_path": PATHS, "content": TEXT})),
        st.tuples(
            st.just("Edit"),
            st.fixed_dictionaries(
                {"file_path": PATHS, "old_string": TEXT, "new_string": TEXT},
                optional={"replace_all": st.booleans()},
            ),
        ),
        st.tuples(
            st.just("MultiEdit"),
            st.fixed_dictionaries(
                {
                    "file_path": PATHS,
                    "edits": st.lists(
                        st.fixed_dictionaries({"old_string": TEXT, "new_string": TEXT}),
                        min_size=1,
                        max_size=2,
                    ),
                }
            ),
        ),
        st.tuples(
            st.just("Bash"),
            st.fixed_dictionaries(
                {"command": COMMANDS}, optional={"run_in_background": st.booleans()}
            ),
        ),
        st.tuples(st.just("Glob"), st.fixed_dictionaries({"pattern": st.just("**/*")})),
        st.tuples(
            st.just("Grep"), st.fixed_dictionaries({"pattern": st.just("app"), "path": PATHS})
        ),
        st.tuples(st.just("KillShell"), st.fixed_dictionaries({"shell_id": st.just("1")})),
        st.tuples(st.just("mcp__fs__write_file"), st.fixed_dictionaries({"path": PATHS})),
    )


class AlwaysYes:
    """A user who approves everything: plan mode must hold even then."""

    def approve(self, request: ApprovalRequest) -> Approval:
        return Approval("once")

    def notify(self, message: str) -> None:
        return


def snapshot(root: Path) -> dict[str, bytes | None]:
    state: dict[str, bytes | None] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            state[os.path.relpath(os.path.join(directory, name), root)] = None
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                state[os.path.relpath(path, root)] = Path(path).read_bytes()
    return state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_calls(), min_size=1, max_size=6))
def test_no_sequence_of_tool_calls_changes_a_file_in_plan_mode(
    calls: list[tuple[str, dict[str, Any]]],
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        project, outside = root / "project", root / "outside"
        (project / "src").mkdir(parents=True)
        (project / "src" / "app.py").write_text("print('app')\n")
        (project / ".git").mkdir()
        (project / ".git" / "config").write_text("[core]\n")
        outside.mkdir()
        (outside / "data.txt").write_text("outside\n")
        (project / "link").symlink_to(outside)
        before = snapshot(root)
        setup = prepare_permissions(
            project, PermissionOptions(mode="plan"), warn=lambda message: None
        )
        with ToolSession(project, launcher=setup.launcher) as session:
            policy = setup.policy(session, session_id="plan", approver=AlwaysYes())
            for index, (name, tool_input) in enumerate(calls):
                decision = policy.before_tool(ToolUseBlock(f"c{index}", name, tool_input))
                if decision.allowed:
                    session.call(name, decision.updated_input or tool_input)
                else:
                    assert "Plan mode" in decision.message
        assert snapshot(root) == before
