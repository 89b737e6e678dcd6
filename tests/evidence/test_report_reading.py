"""Report templates in agent prompts, the sections of a written report, and the anchors that
count as a mention: examples, plus properties over the parameter syntaxes of routes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from backend_agent.evidence.anchors import Anchors, Route, claimed_routes, file_names, routes_in
from backend_agent.evidence.check import claims_nothing
from backend_agent.evidence.template import (
    SEED_SECTIONS,
    SEED_TITLE,
    ReportTemplate,
    find_template,
    read_report,
)

BUILT_IN = Path(__file__).resolve().parents[2] / "src/backend_agent/agents/backend-agent.md"
SEED = ReportTemplate(SEED_TITLE, SEED_SECTIONS)


def test_the_built_in_agent_prompt_holds_the_seed_template() -> None:
    assert find_template(BUILT_IN.read_text()) == SEED


def test_any_report_heading_with_sections_is_a_template() -> None:
    prompt = (
        "You review services.\n\n## Review Report\n\n### Findings\n\n- ...\n\n"
        "### Verdict\n\n- ...\n\n## Style\n\n### Not a section\n"
    )
    assert find_template(prompt) == ReportTemplate("Review Report", ("Findings", "Verdict"))


def test_the_seed_headings_alone_are_the_seed_template() -> None:
    prompt = "End with:\n### Plan\n### Database Impact\n### Tests\n"
    assert find_template(prompt) == SEED


def test_prompts_without_a_template() -> None:
    assert find_template("You are terse. Report back when done.") is None
    assert find_template("## Status Report\n\nNo sections here.") is None
    assert find_template("### Plan\n### Tests\n") is None  # two seed headings are not enough


def test_sections_are_read_by_heading_level_bold_or_spelling() -> None:
    text = (
        "Done. Here is the report.\n\n# Backend Agent Report\n\n## Plan\nDid things.\n\n"
        "**Endpoints / Contracts**\n- POST /x\n\n#### database impact\nNone.\n\n"
        "### Tests\n```\n### Risks & Rollbacks inside a fence\n```\n\n"
        "### Risks and Rollbacks\n- revert\n\n### Evidence check\n\n- old block\n"
    )
    written = read_report(text, SEED)
    assert written.found
    assert written.sections == {
        "Plan": "Did things.",
        "Endpoints/Contracts": "- POST /x",
        "Database Impact": "None.",
        "Tests": "```\n### Risks & Rollbacks inside a fence\n```",
        "Risks & Rollbacks": "- revert",
    }


def test_an_answer_without_the_report() -> None:
    written = read_report("Which database do you use in production?", SEED)
    assert not written.found and written.sections == {}


def test_a_report_section_ends_at_the_next_higher_heading() -> None:
    text = "## Backend Agent Report\n### Tests\n- none\n## Next steps\n- deploy"
    assert read_report(text, SEED).sections == {"Tests": "- none"}


def test_claims_of_nothing() -> None:
    for text in ("None.", "- N/A", "- No changes.", "* **None**", "No new tests; ran pytest"):
        assert claims_nothing(text), text
    for text in (
        "",
        "- Dropped users.legacy_name",
        "Nonetheless, one column",
        "Name of users changed",
        "Notes: none",
    ):
        assert not claims_nothing(text), text


def test_routes_named_in_text() -> None:
    text = (
        "- `POST /users/:id/avatar` (new)\n- GET and DELETE /orders/{id}/\n"
        "- see app/routes/users.py and https://example.com/api/x\n- /health (GET)"
    )
    assert routes_in(text) == [
        Route("POST", "/users/:id/avatar"),
        Route("GET", "/orders/{id}/"),
        Route("DELETE", "/orders/{id}/"),
        Route("GET", "/health"),
    ]


SEGMENT = st.from_regex(r"[a-z][a-z0-9_-]{0,7}", fullmatch=True)
NAME = st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True)
STYLES = ("{%s}", ":%s", "<%s>", "<int:%s>", "{%s:[0-9]+}")


@given(
    parts=st.lists(st.one_of(SEGMENT, NAME.map(lambda n: ("param", n))), min_size=1, max_size=6),
    style=st.sampled_from(STYLES),
    other=st.sampled_from(STYLES),
    slash=st.booleans(),
)
def test_a_route_matches_in_any_parameter_syntax(
    parts: list[object], style: str, other: str, slash: bool
) -> None:
    def render(template: str, renamed: bool) -> str:
        segments = [
            template % (f"{p[1]}x" if renamed else p[1]) if isinstance(p, tuple) else str(p)
            for p in parts
        ]
        return "/" + "/".join(segments) + ("/" if slash else "")

    actual = Route("POST", render("{%s}", False))
    written = f"- `POST {render(style, False)}` and PATCH {render(other, True)}"
    claimed = routes_in(written)
    assert any(actual.matches(route) for route in claimed)
    assert Anchors(routes=(actual,)).found_in(written)
    assert not Anchors(routes=(Route("GET", actual.path),)).found_in(written)


def test_claimed_routes_pair_each_path_with_its_own_method() -> None:
    text = "- POST /users/{id}/avatar (new); see also GET /health\n- /orders/:id (DELETE)"
    assert claimed_routes(text) == [
        Route("POST", "/users/{id}/avatar"),
        Route("GET", "/health"),
        Route("DELETE", "/orders/:id"),
    ]


def test_a_route_matches_without_its_mount_prefix_but_not_another_route() -> None:
    assert Route("GET", "/users/{id}").matches(Route("GET", "/api/v1/users/:id"))
    assert not Route("GET", "/users/{id}").matches(Route("GET", "/users/{id}/avatar"))
    assert Route("ANY", "/webhook").matches(Route("POST", "/webhook"))


def test_words_and_file_names_are_anchors_on_their_own() -> None:
    anchors = Anchors(words=("legacy_name", "users.legacy_name"))
    assert anchors.found_in("Drops `users.legacy_name`.")
    assert anchors.found_in("drops LEGACY_NAME")
    assert not anchors.found_in("drops legacy_names and legacy_name_v2")
    assert file_names("tests/test_avatar.py") == (
        "tests/test_avatar.py",
        "test_avatar.py",
        "test_avatar",
    )
    assert file_names("a/b.go") == ("a/b.go", "b.go")
