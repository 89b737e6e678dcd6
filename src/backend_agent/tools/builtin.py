"""The base of every built-in tool: a pydantic input model, its JSON Schema, and error results."""

from __future__ import annotations

import copy
import functools
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backend_agent.messages import ToolSpec
from backend_agent.tools.base import ToolResult

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

MAX_OUTPUT_CHARS = 30_000

# A whole number that the schema advertises as JSON "number" (what models were trained on);
# 5.0 is accepted, 5.5 is not.
Number = Annotated[int, Field(json_schema_extra={"type": "number"})]


class ToolInput(BaseModel):
    """Input of a built-in tool: unknown fields are rejected, aliases are the wire names."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolError(Exception):
    """A tool call failed in a way the model can act on; the message becomes the result."""


InputT = TypeVar("InputT", bound=ToolInput)


class BuiltinTool(ABC, Generic[InputT]):
    """A tool implemented here: subclasses set the class attributes and write ``execute``."""

    name: ClassVar[str]
    description: ClassVar[str]
    input_model: ClassVar[type[ToolInput]]

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, input_schema(self.input_model))

    def run(self, input: dict[str, Any], session: ToolSession) -> ToolResult:
        try:
            args = self.parse(input)
            return self.execute(args, session)
        except ToolError as exc:
            return ToolResult.error(str(exc))

    def parse(self, input: dict[str, Any]) -> InputT:
        """Validate ``input``; a ToolError names every bad field."""
        if not isinstance(input, dict):
            raise ToolError(f"Invalid input for {self.name}: expected a JSON object")
        try:
            return cast(InputT, self.input_model.model_validate(input))
        except ValidationError as exc:
            raise ToolError(validation_message(self.name, exc)) from None

    @abstractmethod
    def execute(self, args: InputT, session: ToolSession) -> ToolResult:
        """Run the validated call; raise ToolError for failures the model should see."""


def truncate(text: str, dropped_lines: int = 0, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Keep the beginning of ``text``; say how many lines were cut (plus ``dropped_lines``
    that were never kept)."""
    if len(text) <= limit and not dropped_lines:
        return text
    cut = text[limit:]
    cut_lines = (cut.count("\n") + 1 if cut else 0) + dropped_lines
    return f"{text[:limit]}\n\n... [{cut_lines} lines truncated] ..."


def validation_message(tool: str, exc: ValidationError) -> str:
    """One line per problem: the field path, then what is wrong with it."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(input)"
        if error["type"] == "missing":
            problem = "required field is missing"
        elif error["type"] == "extra_forbidden":
            problem = "unknown field (not in the schema)"
        else:
            problem = f"{error['msg']} (got {error['input']!r:.80})"
        problems.append(f"- {field}: {problem}")
    return f"Invalid input for {tool}:\n" + "\n".join(problems)


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema sent to providers: by alias, self-contained (no $ref), no titles."""
    return copy.deepcopy(_cached_schema(model))  # a copy: callers may adjust their own


@functools.cache
def _cached_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.pop("$defs", {})
    cleaned = _inline(schema, definitions)
    assert isinstance(cleaned, dict)
    return cleaned


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
    node = _without_null_option(node)
    cleaned = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties":
            cleaned[key] = {name: _inline(prop, definitions) for name, prop in value.items()}
        else:
            cleaned[key] = _inline(value, definitions)
    return cleaned


def _without_null_option(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` with ``default: null`` (an optional field) becomes plain ``X``."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return node
    (kept,) = [option for option in options if option != {"type": "null"}]
    rest = {k: v for k, v in node.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**kept, **rest}
