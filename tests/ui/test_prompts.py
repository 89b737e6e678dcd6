"""What a typed prompt becomes: custom commands expanded, ``@`` mentions attached."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.custom_commands import CustomCommand, load_custom_commands
from backend_agent.models.registry import ModelChoice
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.ui.mentions import attach_mentions, mentioned_paths


def command(text: str) -> CustomCommand:
    return CustomCommand("c", text, "d", "project", Path("c.md"))


@pytest.mark.parametrize(
    ("text", "arguments", "prompt"),
    [
        ("Fix issue $ARGUMENTS now", "42", "Fix issue 42 now"),
        ("Compare $1 with $2", 'main "feature branch"', "Compare main with feature branch"),
        ("Compare $1 with $2", "main", "Compare main with"),
        ("Review the diff", "carefully please", "Review the diff\n\ncarefully please"),
        ("Review the diff", "", "Review the diff"),
        ("Quote $1", "it's", "Quote it's"),  # an unbalanced quote: plain words
    ],
)
def test_arguments_fill_the_placeholders(text: str, arguments: str, prompt: str) -> None:
    assert command(text).expand(arguments) == prompt


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_arguments_arrive_whole_whatever_they_hold(arguments: str) -> None:
    assert command("Do: $ARGUMENTS.").expand(arguments) == f"Do: {arguments.strip()}.".strip()


def test_commands_are_found_in_the_project_and_the_home(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    user = home / ".claude" / "commands"
    mine = project / ".claude" / "commands"
    (mine / "db").mkdir(parents=True)
    user.mkdir(parents=True)
    (user / "review.md").write_text("Review as the user likes it")
    (user / "standup.md").write_text("---\nmodel: haiku\n---\nWrite my standup")
    (mine / "review.md").write_text(
        "---\ndescription: Review like this team does\nallowed-tools: [Read, 'Bash(git diff:*)']\n"
        "---\nReview $ARGUMENTS"
    )
    (mine / "db" / "migrate.md").write_text(
        "---\nallowed-tools: Bash(alembic upgrade:*), Read\n---\nRun migrations"
    )
    (mine / "bad.md").write_text("---\n: [unclosed\n")
    (mine / "no spaces allowed.md").write_text("x")
    problems: list[str] = []
    found = load_custom_commands(project, home, problems.append)
    assert sorted(found) == ["migrate", "review", "standup"]
    review = found["review"]
    assert (
        review.source == "project" and review.description == "Review like this team does (project)"
    )
    assert review.allowed_tools == ("Read", "Bash(git diff:*)")
    assert found["migrate"].description == "Run migrations (project:db)"
    assert found["migrate"].allowed_tools == ("Bash(alembic upgrade:*)", "Read")
    assert found["standup"].model == "haiku" and found["standup"].source == "user"
    (problem,) = problems
    assert "bad.md" in problem and problem.endswith("command skipped")


def open_session(project: Path) -> Session:
    script = project.parent / "script.yaml"
    script.write_text("turns: [ok]\n")
    return Session.open(SessionConfig(cwd=project, model=ModelChoice(f"scripted:{script}")))


def test_mentions_attach_files_and_listings_and_count_as_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "main.py").write_text("print('hi')\n")
    (project / "notes.md").write_text("one\n")
    with open_session(project) as session:
        attached = attach_mentions("see @app/main.py, @app and @nothing.txt or a@b.c", session)
        assert [(a.path, a.note, a.ok) for a in attached] == [
            ("app/main.py", "1 lines", True),
            ("app", "directory, 1 entries", True),
        ]
        edit = {"file_path": "app/main.py", "old_string": "hi", "new_string": "hello"}
        assert not session.tools.call("Edit", edit).is_error  # read by the mention
        session.prompt("see them")
        context = session.messages[0].text
    assert context.startswith("see them")
    assert '<attached-file path="app/main.py">' in context and "print('hi')" in context
    assert '<attached-directory path="app">\nmain.py\n</attached-directory>' in context


def test_mentions_that_cannot_be_attached_say_why(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "blob.bin").write_bytes(b"\0\1\2")
    with open_session(project) as session:
        (attached,) = attach_mentions("what is @blob.bin?", session)
    assert not attached.ok and "binary file" in attached.note


def test_a_mention_is_the_longest_existing_path_before_punctuation(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    (tmp_path / "weird,name").write_text("")
    found = mentioned_paths("@a.py, then @weird,name. and (@a.py)", tmp_path)
    assert [typed for typed, _ in found] == ["a.py", "weird,name"]
