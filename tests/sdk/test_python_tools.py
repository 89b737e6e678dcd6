"""Python functions as tools: what the model is shown, validated calls, errors as results, and
the permission rules that apply to them as to any other tool."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import Field

import backend_agent
from backend_agent.definitions import AgentDefinition
from backend_agent.errors import UserError
from backend_agent.tools.base import ToolResult

from .conftest import Provider

CALLS: list[tuple[int, int]] = []


@backend_agent.tool
def add(a: int, b: Annotated[int, Field(description="the second term")] = 2) -> int:
    """Add two integers."""
    CALLS.append((a, b))
    return a + b


@backend_agent.tool(name="lookup_user", description="Find a user by email.")
async def find_user(email: str) -> dict[str, Any]:
    await asyncio.sleep(0)
    if "@" not in email:
        raise ValueError(f"{email!r} is not an email address")
    return {"email": email, "roles": ["admin"]}


def call(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"name": name, "input": tool_input}


@pytest.fixture(autouse=True)
def no_calls_yet() -> None:
    CALLS.clear()


def test_a_python_tool_is_called_with_validated_input(project: Path, provider: Provider) -> None:
    script = [
        {"text": "Adding.", "tool_calls": [call("mcp__sdk__add", a=3, b=4)]},
        {"tool_calls": [call("mcp__sdk__add", a="three"), call("mcp__sdk__add", a=1, c=5)]},
        "The sum is 7.",
    ]
    with backend_agent.open_session(
        project, tools=[add], allowed_tools=["mcp__sdk__add"], **provider.options(script)
    ) as session:
        result = session.prompt("add 3 and 4")
    assert result.subtype == "success"
    assert CALLS == [(3, 4)]  # the invalid calls never reached the function
    played = provider.played()
    assert played.results[1] == [("7", False)]
    (not_a_number, _), (unknown_field, _) = played.results[2]
    assert "Invalid input for add" in not_a_number and "- a: " in not_a_number
    assert "- c: unknown field" in unknown_field
    assert [error for _, error in played.results[2]] == [True, True]
    assert "mcp__sdk__add" in played.tools[0]
    schema = provider.tool_schema("mcp__sdk__add")
    assert schema["required"] == ["a"]
    assert schema["properties"]["a"] == {"type": "integer"}
    assert schema["properties"]["b"]["description"] == "the second term"
    assert schema["properties"]["b"]["default"] == 2


def test_async_tools_run_and_their_exceptions_become_error_results(
    project: Path, scripted: Provider
) -> None:
    script = [
        {
            "tool_calls": [
                call("mcp__sdk__lookup_user", email="ada@example.com"),
                call("mcp__sdk__lookup_user", email="nobody"),
            ]
        },
        "Found Ada.",
    ]
    with backend_agent.open_session(
        project, tools=[find_user], allowed_tools=["mcp__sdk"], **scripted.options(script)
    ) as session:
        session.prompt("who is ada?")
    (found, found_error), (failed, failed_error) = scripted.played().results[1]
    assert not found_error and '"roles": [\n    "admin"\n  ]' in found
    assert failed_error
    assert "lookup_user raised ValueError: 'nobody' is not an email address" in failed


def test_a_python_tool_asks_like_any_other_tool(project: Path, scripted: Provider) -> None:
    """Default mode: no rule allows it and nobody can be asked, so the call is refused."""
    script = [{"tool_calls": [call("mcp__sdk__add", a=1)]}, "Could not."]
    with backend_agent.open_session(project, tools=[add], **scripted.options(script)) as session:
        result = session.prompt("add")
    assert CALLS == []
    assert [d["tool_name"] for d in result.permission_denials] == ["mcp__sdk__add"]
    ((message, is_error),) = scripted.played().results[1]
    assert is_error and "allowed_tools" in message


def test_tool_lists_narrow_python_tools_as_they_narrow_mcp_tools(
    project: Path, scripted: Provider
) -> None:
    def tools_seen(**options: Any) -> list[str]:
        model = scripted.options(["ok"])["model"]
        with backend_agent.open_session(
            project, tools=[add, find_user], model=model, **options
        ) as session:
            session.prompt("hi")  # (the built-in mcp__backend__ evidence tools are not counted)
            return [
                spec.name for spec in model.requests[0].tools if spec.name.startswith("mcp__sdk")
            ]

    assert tools_seen() == ["mcp__sdk__add", "mcp__sdk__lookup_user"]
    assert tools_seen(disallowed_tools=["mcp__sdk__add"]) == ["mcp__sdk__lookup_user"]
    assert tools_seen(disallowed_tools=["mcp__sdk"]) == []
    # an agent file that lists built-in tools only cannot know the program's tools: kept
    builtin_only = AgentDefinition("reader", "reads", "Read things.", tools=("Read", "Grep"))
    assert tools_seen(agent=builtin_only) == ["mcp__sdk__add", "mcp__sdk__lookup_user"]
    one = AgentDefinition("adder", "adds", "Add.", tools=("Read", "mcp__sdk__add"))
    assert tools_seen(agent=one) == ["mcp__sdk__add"]


def test_the_decorated_function_is_still_the_function() -> None:
    assert add(1, 2) == 3
    assert add.name == "add" and add.description == "Add two integers."
    assert find_user.name == "lookup_user"
    assert asyncio.run(find_user("a@b.c")) == {"email": "a@b.c", "roles": ["admin"]}
    assert pickle.loads(pickle.dumps(add)) is add  # by reference: fine for worker processes


def test_return_values_become_text_for_the_model() -> None:
    @backend_agent.tool
    def nothing() -> None:
        """Do nothing."""

    @backend_agent.tool
    def as_is() -> ToolResult:
        return ToolResult("exactly this", is_error=True)

    @backend_agent.tool
    def listing() -> list[Path]:
        return [Path("a.py")]

    assert nothing.invoke({}) == ToolResult("(the tool returned no content)")
    assert as_is.invoke({}) == ToolResult("exactly this", is_error=True)
    assert listing.invoke({}).content == '[\n  "a.py"\n]'
    assert listing.description == "Calls the Python function listing."


def test_signatures_a_model_cannot_call_are_refused() -> None:
    def variadic(*names: str) -> str:
        return ",".join(names)

    with pytest.raises(TypeError, match="parameter names is variadic positional"):
        backend_agent.tool(variadic)


def test_two_tools_with_one_name_are_an_error(project: Path) -> None:
    def add(x: int) -> int:
        return x

    with pytest.raises(UserError, match="two Python tools are named"):
        backend_agent.open_session(project, tools=[globals()["add"], add], model="scripted:x")
