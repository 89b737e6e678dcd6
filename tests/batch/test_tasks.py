"""Tasks files: JSONL and YAML say the same thing, and every mistake is named at its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.batch import PromptTask, ReportTask, load_tasks, report_tasks
from backend_agent.errors import UserError


def test_yaml_with_defaults_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    path = tmp_path / "tasks.yaml"
    path.write_text(
        "defaults:\n"
        "  permission_mode: acceptEdits\n"
        "  total_budget_usd: 5\n"
        "  timeout: 600\n"
        "  model: scripted:turns.yaml\n"
        "tasks:\n"
        "  - id: bump\n"
        "    repo: svc\n"
        "    prompt: Bump requests and fix what breaks\n"
        "    branch: deps/requests\n"
        "    agent: agents/fixer.md\n"
        "  - {id: svc-report, repo: 'https://example.com/org/svc.git', report: true, base: main}\n"
    )
    loaded = load_tasks(path)
    bump, report = loaded.tasks
    assert isinstance(bump, PromptTask) and isinstance(report, ReportTask)
    assert bump.repo == str(tmp_path / "svc")
    assert bump.agent == str(tmp_path / "agents/fixer.md")
    assert bump.branch == "deps/requests" and bump.kind == "prompt"
    assert report.repo == "https://example.com/org/svc.git"  # a URL stays a URL
    assert (report.base, report.format, report.kind) == ("main", "md", "report")
    assert loaded.defaults.model == f"scripted:{tmp_path / 'turns.yaml'}"
    assert loaded.defaults.total_budget_usd == 5 and loaded.defaults.timeout == 600


def test_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(
        '{"id": "a", "repo": ".", "prompt": "x", "max_turns": 3}\n\n'
        '{"id": "b", "repo": "git@github.com:org/b.git", "report": true, "format": "sarif"}\n'
    )
    first, second = load_tasks(path).tasks
    assert isinstance(first, PromptTask) and first.max_turns == 3
    assert isinstance(second, ReportTask) and second.format == "sarif"
    assert second.repo == "git@github.com:org/b.git"


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ('{"id": "a", "repo": ".", "prompt": "x"}\n{"id": "b", "repo": ".", "prompt": \n', 2,
         "not a JSON object"),
        ('{"id": "a", "repo": ".", "prompt": "x", "colour": "red"}\n', 1,
         "task 'a': colour: Extra inputs are not permitted"),
        ('{"id": "a", "repo": ".", "prompt": "x", "report": true}\n', 1,
         "give either 'prompt' or 'report: true', not both"),
        ('\n{"id": "a", "repo": "."}\n', 2, "needs 'prompt' (a task to run) or 'report: true'"),
        ('{"id": "a", "repo": ".", "report": false}\n', 1, "report: must be true"),
        ('{"id": "../etc", "repo": ".", "prompt": "x"}\n', 1, "id: letters, digits"),
        ('{"id": "a", "repo": ".", "prompt": "x", "permission_mode": "yolo"}\n', 1,
         "permission_mode: expected one of default, acceptEdits"),
        ('{"id": "a", "repo": ".", "prompt": "x", "max_budget_usd": -1}\n', 1,
         "max_budget_usd: Input should be greater than 0"),
        ('{"id": "a", "repo": ".", "report": true, "format": "pdf"}\n', 1, "format:"),
        ('{"id": "a", "repo": ".", "prompt": ""}\n', 1, "prompt: String should have at least"),
        ('["a"]\n', 1, "a task is a mapping"),
        ('{"id": "a", "repo": ".", "prompt": "x"}\n{"id": "a", "repo": ".", "prompt": "y"}\n', 2,
         "task id 'a' is used twice (first on line 1)"),
    ],
)  # fmt: skip
def test_jsonl_errors_name_the_line(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(content)
    with pytest.raises(UserError) as error:
        load_tasks(path)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("tasks:\n  - id: a\n    repo: .\n    prompt: [unclosed\n", 5, "not valid YAML"),
        ("tasks:\n  - id: a\n    repo: .\n    prompt: x\n  - id: b\n    repo: .\n", 5,
         "task 'b': needs 'prompt'"),
        ("defaults:\n  workers: 0\ntasks: []\n", 2, "defaults: workers: Input should be greater"),
        ("default:\n  workers: 2\ntasks: []\n", 1, "unknown key 'default'"),
        ("tasks:\n- id: a\n  repo: .\n  prompt: x\n  max_turns: 2.5\n", 2, "max_turns:"),
    ],
)  # fmt: skip
def test_yaml_errors_name_the_line(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(content)
    with pytest.raises(UserError) as error:
        load_tasks(path)
    assert str(error.value).startswith(f"{path}:{line}: "), error.value
    assert message in str(error.value)


def test_file_level_errors(tmp_path: Path) -> None:
    for name, content, message in [
        ("tasks.txt", "", "a tasks file is .jsonl, .yaml, .yml or .json"),
        ("empty.yaml", "tasks: []\n", "no tasks"),
        ("scalar.yaml", "hello\n", "expected a list of tasks"),
        ("missing.yaml", None, "cannot read the tasks file"),
    ]:
        path = tmp_path / name
        if content is not None:
            path.write_text(content)
        with pytest.raises(UserError, match=message):
            load_tasks(path)


def test_report_all_names_tasks_after_their_repositories(tmp_path: Path) -> None:
    tasks = report_tasks(
        ["svc-a", str(tmp_path / "x" / "svc-a"), "https://h/org/billing.git", "git@h:o/.odd.git"],
        "html",
        "main",
    )
    assert [t.id for t in tasks] == ["svc-a", "svc-a-2", "billing", "odd"]
    assert all(isinstance(t, ReportTask) and t.format == "html" and t.base == "main" for t in tasks)
    assert tasks[0].repo == str(Path("svc-a").resolve())


ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", fullmatch=True)
# PyYAML writes NEL and the Unicode line/paragraph separators raw, and reads them back as line
# breaks (YAML 1.1), so a prompt holding them cannot round-trip through yaml.safe_dump.
prompts = st.text(
    st.characters(blacklist_characters="\x85\u2028\u2029", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=40,
)
prompt_tasks = st.fixed_dictionaries(
    {"repo": st.just("."), "prompt": prompts},
    optional={
        "max_turns": st.integers(1, 50),
        "max_budget_usd": st.floats(0.01, 100),
        "permission_mode": st.sampled_from(["default", "acceptEdits", "plan"]),
        "branch": st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8})?", fullmatch=True),
    },
)
report_tasks_data = st.fixed_dictionaries(
    {"repo": st.just("."), "report": st.just(True)},
    optional={"format": st.sampled_from(["md", "json", "sarif", "html"]), "base": st.just("main")},
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(ids, min_size=1, max_size=6, unique=True).flatmap(
        lambda names: st.tuples(
            st.just(names), st.lists(prompt_tasks | report_tasks_data, min_size=len(names),
                                     max_size=len(names))
        )
    ),
    st.integers(0, 5),
)  # fmt: skip
def test_jsonl_and_yaml_agree_and_a_bad_task_is_found_at_its_line(
    tmp_path_factory: pytest.TempPathFactory, named: tuple[list[str], list[dict]], bad: int
) -> None:
    names, bodies = named
    tasks = [{"id": name, **body} for name, body in zip(names, bodies, strict=True)]
    directory = tmp_path_factory.mktemp("tasks")
    jsonl = directory / "tasks.jsonl"
    jsonl.write_text("".join(json.dumps(task) + "\n" for task in tasks))
    yml = directory / "tasks.yaml"
    yml.write_text(yaml.safe_dump(tasks, allow_unicode=True))
    assert load_tasks(jsonl).tasks == load_tasks(yml).tasks
    assert [t.id for t in load_tasks(jsonl).tasks] == names

    broken = bad % len(tasks)
    tasks[broken] = {**tasks[broken], "surprise": 1}
    jsonl.write_text("".join(json.dumps(task) + "\n" for task in tasks))
    with pytest.raises(UserError) as error:
        load_tasks(jsonl)
    assert str(error.value).startswith(f"{jsonl}:{broken + 1}: task {names[broken]!r}: surprise:")
