"""End to end: the built-in agent, headless, with the scripted model, on fixture git
repositories in Python, JavaScript and Go. The model adds an endpoint and a migration that
drops ``users.legacy_name``; the session checks its final report against that change."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from grounded_repos import ACCURATE_DATABASE, LANGUAGES, Language, change_calls, make_repo, report

from backend_agent.evidence.options import EvidenceMode, EvidenceOptions
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.sessions.config import AgentChoice, SessionConfig
from backend_agent.ui.headless import HeadlessOptions, run_headless

LANGUAGE_NAMES = list(LANGUAGES)


class Run:
    """One headless stream-json run: its records, the corrective messages, the result."""

    def __init__(self, lines: list[dict[str, Any]], exit_code: int) -> None:
        self.records = lines
        self.exit_code = exit_code
        self.result = lines[-1]
        self.corrections = [
            block["text"]
            for record in lines
            if record["type"] == "user"
            for block in record["message"]["content"]
            if block["type"] == "text"
        ]

    @property
    def report(self) -> dict[str, Any]:
        return dict(self.result["report"])


def run_agent(
    repo: Path,
    turns: list[Any],
    *,
    evidence: EvidenceMode | None = None,
    system_prompt: str | None = None,
    sandbox: str | None = None,
    allow: list[str] | None = None,
) -> Run:
    script = repo.parent / f"{repo.name}-script.yaml"
    script.write_text(yaml.safe_dump({"turns": turns}), encoding="utf-8")
    config = SessionConfig(
        cwd=repo,
        agent=AgentChoice(system_prompt=system_prompt),
        model=ModelChoice(f"scripted:{script}"),
        permissions=PermissionOptions(
            mode="acceptEdits", sandbox=sandbox, allowed_tools=allow or []
        ),
        evidence=EvidenceOptions(evidence),
    )
    out = io.StringIO()
    code = run_headless(
        config, HeadlessOptions("Add an avatar upload endpoint", "stream-json"), out
    )
    return Run([json.loads(line) for line in out.getvalue().splitlines()], code)


def work(language: Language, *, with_test: bool = False) -> list[Any]:
    """The turns that read the route file and make the change."""
    return [
        {"text": "Reading the routes.", "tool_calls": [
            {"name": "Read", "input": {"file_path": language.route_file}}
        ]},
        {"text": "Adding the endpoint and the migration.",
         "tool_calls": change_calls(language, with_test=with_test)},
    ]  # fmt: skip


@pytest.fixture(params=LANGUAGE_NAMES)
def language(request: pytest.FixtureRequest) -> Language:
    return LANGUAGES[request.param]


@pytest.fixture
def repo(language: Language, tmp_path: Path) -> Path:
    return make_repo(language.name, tmp_path / language.name)


def test_forgotten_migration_gets_one_correction_then_is_verified(
    language: Language, repo: Path
) -> None:
    revised = report(language, database=ACCURATE_DATABASE)
    run = run_agent(repo, [*work(language), report(language), revised])

    assert run.exit_code == 0
    assert len(run.corrections) == 1
    correction = run.corrections[0]
    assert "Database Impact" in correction
    assert "users.legacy_name" in correction
    assert language.migration in correction
    assert run.report["verified"] is True
    assert run.report["discrepancies"] == []
    assert run.result["result"] == revised  # verified: the answer is left as the model wrote it


def test_revision_that_still_omits_it_is_not_verified(language: Language, repo: Path) -> None:
    forgetful = report(language)
    run = run_agent(repo, [*work(language), forgetful, forgetful])

    assert len(run.corrections) == 1
    found = run.report["discrepancies"]
    assert run.report["verified"] is False
    assert [d["kind"] for d in found] == ["contradicted"]
    (discrepancy,) = found
    assert discrepancy["section"] == "Database Impact"
    assert "legacy_name" in discrepancy["item"]
    assert discrepancy["file"] == language.migration
    assert isinstance(discrepancy["line"], int) and discrepancy["line"] >= 1
    text = run.result["result"]
    block = text[text.index("### Evidence check") :]
    assert "users.legacy_name" in block and language.migration in block
    assert text.startswith("## Backend Agent Report")


def test_accurate_report_is_verified_without_a_correction(language: Language, repo: Path) -> None:
    accurate = report(
        language,
        database=ACCURATE_DATABASE,
        tests=f"- Added `{language.test_file}` for the new endpoint.",
    )
    run = run_agent(repo, [*work(language, with_test=True), accurate])

    assert run.corrections == []
    assert run.report["verified"] is True
    evidence = run.report["evidence"]
    assert [e["method"] for e in evidence["endpoints"]["added"]] == ["POST"]
    assert [m["file"] for m in evidence["database"]["migrations"]] == [language.migration]
    assert [t["path"] for t in evidence["tests"]["files"]] == [language.test_file]
    assert set(run.report["sections"]) == {
        "Plan",
        "Endpoints/Contracts",
        "Database Impact",
        "Tests",
        "Risks & Rollbacks",
    }


def test_claimed_tests_without_a_changed_test_file_are_unsupported(
    language: Language, repo: Path
) -> None:
    claims = report(
        language,
        database=ACCURATE_DATABASE,
        tests=f"- Added `{language.test_file}` covering the upload.",
    )
    run = run_agent(repo, [*work(language), claims], evidence="warn")

    assert run.corrections == []  # warn: noted, never sent back
    (discrepancy,) = run.report["discrepancies"]
    assert discrepancy["section"] == "Tests"
    assert discrepancy["kind"] == "unsupported"
    assert language.test_file in discrepancy["item"]
    assert "Tests: unsupported" in run.result["result"]


def test_prompt_without_a_template_is_not_checked(language: Language, repo: Path) -> None:
    run = run_agent(
        repo,
        [*work(language), "Done: the endpoint and the migration are in place."],
        system_prompt="You are a careful backend engineer. Keep answers short.",
    )

    assert run.corrections == []
    assert run.report == {
        "template": False,
        "checked": False,
        "sections": {},
        "evidence": None,
        "discrepancies": [],
        "verified": None,
    }
    assert run.result["result"] == "Done: the endpoint and the migration are in place."


def test_evidence_check_off_leaves_the_result_alone(tmp_path: Path) -> None:
    language = LANGUAGES["python"]
    repo = make_repo("python", tmp_path / "python")
    run = run_agent(repo, [*work(language), report(language)], evidence="off")

    assert run.corrections == []
    assert "report" not in run.result
    assert run.result["result"] == report(language)


def test_tests_run_in_the_session_back_a_tests_claim(tmp_path: Path) -> None:
    language = LANGUAGES["python"]
    repo = make_repo("python", tmp_path / "python")
    command = "python -m pytest -q -p no:cacheprovider tests/test_version.py"
    ran = report(language, database=ACCURATE_DATABASE, tests="- Ran the existing suite: it passes.")
    turns = [
        *work(language),
        {"tool_calls": [{"name": "Bash", "input": {"command": command}}]},
        ran,
    ]
    run = run_agent(repo, turns, evidence="warn", sandbox="off", allow=["Bash"])

    assert run.report["verified"] is True, run.report["discrepancies"]
    (result,) = run.report["evidence"]["tests"]["results"]
    assert (result["runner"], result["command"]) == ("pytest", command)
    assert (result["passed"], result["failed"], result["exit_code"]) == (1, 0, 0)


def test_the_mode_comes_from_settings_and_a_bad_one_is_named(tmp_path: Path) -> None:
    language = LANGUAGES["python"]
    repo = make_repo("python", tmp_path / "python")
    (repo / ".claude").mkdir()
    settings = repo / ".claude" / "settings.json"
    settings.write_text(json.dumps({"evidenceCheck": "warn"}))
    run = run_agent(repo, [*work(language), report(language)])
    assert run.corrections == [] and run.report["verified"] is False

    settings.write_text(json.dumps({"evidenceCheck": "loud"}))
    run = run_agent(repo, ["never used"])
    assert run.result["is_error"] is True
    assert f"{settings}: evidenceCheck: choose one of off, warn, revise" in run.result["result"]


def test_a_removed_job_must_be_named(tmp_path: Path) -> None:
    language = LANGUAGES["python"]
    repo = make_repo("python", tmp_path / "python")
    tasks = "\n\n@celery.task\ndef purge_legacy_names() -> None:\n"
    tasks += '    print("purging users.legacy_name")\n'
    removal = [
        {"name": "Edit", "input": {"file_path": "app/tasks.py", "old_string": tasks,
                                   "new_string": ""}},
        {"name": "Edit", "input": {"file_path": "app/signup.py",
                                   "old_string": "purge_legacy_names, ", "new_string": ""}},
        {"name": "Edit", "input": {"file_path": "app/signup.py",
                                   "old_string": "    purge_legacy_names.delay()\n",
                                   "new_string": ""}},
    ]  # fmt: skip
    read = [{"name": "Read", "input": {"file_path": p}} for p in ("app/tasks.py", "app/signup.py")]
    named = "- Removed the `purge_legacy_names` Celery job: nothing enqueues it any more."
    turns = [
        {"tool_calls": read},
        {"tool_calls": removal},
        report(language, endpoints="- No endpoint changes."),
        report(language, endpoints=named),
    ]
    run = run_agent(repo, turns)

    (correction,) = run.corrections
    assert "Endpoints/Contracts: contradicted: breaking job-removed" in correction
    assert "purge_legacy_names" in correction and "app/tasks.py:" in correction
    assert run.report["verified"] is True
    assert [c["rule"] for c in run.report["evidence"]["queues"]["changes"]] == ["job-removed"]


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_the_python_api_chooses_the_mode_as_the_flag_does(
    tmp_path: Path, mode: EvidenceMode
) -> None:
    import backend_agent

    language = LANGUAGES["python"]
    repo = make_repo("python", tmp_path / "python")
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"turns": [*work(language), report(language)]}))
    result = backend_agent.run(
        "Add an avatar upload endpoint",
        cwd=repo,
        model=f"scripted:{script}",
        permission_mode="acceptEdits",
        evidence_check=mode,
    )
    assert result.subtype == "success" and result.num_turns == 3  # no corrective turn
    if mode == "off":
        assert result.report is None
    else:
        assert result.report is not None and result.report["verified"] is False
        assert "### Evidence check" in result.result
