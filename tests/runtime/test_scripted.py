"""The scripted model: its file format, streaming, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.errors import UserError
from backend_agent.messages import (
    Message,
    ModelRequest,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
)
from backend_agent.models.base import ModelError
from backend_agent.models.scripted import ScriptedModel

REQUEST = ModelRequest(system="s", messages=[Message.user("hi")])


def test_yaml_script_with_thinking_text_tool_calls_and_usage(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(
        """
model: claude-haiku-4-5
turns:
  - thinking: Look first.
    text: Let me check.
    tool_calls:
      - {name: Grep, input: {pattern: TODO}}
      - {id: my-id, name: Read, input: {file_path: a.py}}
    usage: {input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 7}
  - Done.
"""
    )
    model = ScriptedModel.from_file(path)
    events: list[StreamEvent] = []
    first = model.complete(REQUEST, events.append)
    second = model.complete(REQUEST)

    assert model.model_id == first.model == "claude-haiku-4-5"
    assert first.message.content == [
        ThinkingBlock("Look first."),
        TextBlock("Let me check."),
        ToolUseBlock("toolu_scripted_1_1", "Grep", {"pattern": "TODO"}),
        ToolUseBlock("my-id", "Read", {"file_path": "a.py"}),
    ]
    assert first.stop_reason == "tool_use"
    assert first.usage.cache_read_input_tokens == 7
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Look first."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Let me check."
    assert second.message.text == "Done." and second.stop_reason == "end_turn"
    assert model.requests == [REQUEST, REQUEST]


def test_json_scripts_and_bare_lists_work(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    path.write_text('["one", {"text": "two"}]')
    model = ScriptedModel.from_file(path)
    assert [model.complete(REQUEST).message.text for _ in range(2)] == ["one", "two"]


def test_running_out_of_turns_is_a_clear_model_error(tmp_path: Path) -> None:
    path = tmp_path / "short.yaml"
    path.write_text("turns: [only]")
    model = ScriptedModel.from_file(path)
    model.complete(REQUEST)
    with pytest.raises(
        ModelError, match=r"short\.yaml has 1 turn\(s\) and the run asked for turn 2"
    ):
        model.complete(REQUEST)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("turns: [{txt: typo}]", "unknown field"),
        ("nothing: here", "'turns' list"),
        ("turns: [{tool_calls: [{input: {}}]}]", "'name'"),
        ("turns: [{usage: {input_tokens: -1}}]", "non-negative"),
        ("turns: [{usage: {tokens: 1}}]", "'usage' fields"),
        ("turns: [{text: a, stop_reason: later}]", "stop_reason"),
        ("turns: [: bad", "not valid YAML"),
    ],
)
def test_malformed_scripts_name_the_file_and_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(UserError, match=message) as error:
        ScriptedModel.from_file(path)
    assert str(path) in str(error.value)


def test_a_yaml_mistake_is_one_line_with_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text('turns:\n  - text: "hello"\n   bad: [\n')
    with pytest.raises(UserError) as error:
        ScriptedModel.from_file(path)
    assert str(error.value) == (
        f"{path}:3:4: not valid YAML/JSON: expected <block end>, but found '<block mapping start>'"
    )
    path.write_bytes(b"turns: [caf\xe9]")
    with pytest.raises(UserError, match="not UTF-8 text"):
        ScriptedModel.from_file(path)


def test_a_missing_script_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read script"):
        ScriptedModel.from_file(tmp_path / "absent.yaml")


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1))
def test_streamed_text_always_reassembles_to_the_turn_text(text: str) -> None:
    model = ScriptedModel.from_data({"turns": [{"text": text}]})
    events: list[StreamEvent] = []
    response = model.complete(REQUEST, events.append)
    assert "".join(e.text for e in events) == response.message.text == text
