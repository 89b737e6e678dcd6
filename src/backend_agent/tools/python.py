"""Python functions as tools: ``@tool`` reads a typed function's name, docstring and signature
(through pydantic) into what the model sees; a call validates the model's input against the
signature, runs the function in-process (``async def`` too), and turns what it returns, or
raises, into the tool result.

A session serves them as ``mcp__<server>__<name>`` (server ``sdk``), the way it names MCP
tools, so the same permission rules, ``--tools`` lists and agent ``tools:`` fields apply.
"""

from __future__ import annotations

import functools
import inspect
import json
import typing
from collections.abc import Callable, Iterable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import to_jsonable_python

from backend_agent.awaiting import resolve
from backend_agent.errors import UserError
from backend_agent.mcp.names import tool_name
from backend_agent.messages import ToolSpec
from backend_agent.tools.base import ToolResult
from backend_agent.tools.builtin import input_schema, truncate, validation_message
from backend_agent.tools.session import ToolSession

P = ParamSpec("P")
R = TypeVar("R")
SDK_SERVER = "sdk"
NO_CONTENT = "(the tool returned no content)"


class FunctionTool(Generic[P, R]):
    """A function made a tool. Calling it calls the function; ``name``, ``description`` and
    ``input_schema`` are what the model is shown. Pickled by reference, as the function is."""

    def __init__(
        self, function: Callable[P, R], *, name: str | None = None, description: str | None = None
    ) -> None:
        self.function = function
        self.name = name or function.__name__
        doc = inspect.cleandoc(function.__doc__ or "")
        self.description = description or doc or f"Calls the Python function {self.name}."
        self._input, self._parameters = _input_model(function, self.name)
        self.input_schema = input_schema(self._input)
        functools.update_wrapper(self, function)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    def __reduce__(self) -> str:
        return str(getattr(self, "__qualname__", self.name))

    def __repr__(self) -> str:
        return f"<tool {self.name}>"

    def invoke(self, tool_input: dict[str, Any]) -> ToolResult:
        """Validate ``tool_input``, call the function, and describe the outcome for the model;
        never raises (bad input and exceptions become error results)."""
        try:
            values = self._input.model_validate(tool_input)
        except ValidationError as error:
            return ToolResult.error(validation_message(self.name, error))
        arguments = {name: getattr(values, field) for field, name in self._parameters.items()}
        try:
            output = resolve(self.function(**arguments))  # type: ignore[call-arg]
        except Exception as error:
            return ToolResult.error(f"{self.name} raised {type(error).__name__}: {error}")
        return _as_result(output)


@overload
def tool(function: Callable[P, R], /) -> FunctionTool[P, R]: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...


def tool(
    function: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> FunctionTool[P, R] | Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """Make a typed function a tool: ``@tool`` or ``@tool(name=..., description=...)``.

    The docstring is the description, the parameters (with their type hints, defaults and
    ``Annotated[..., Field(description=...)]``) the input schema. TypeError for a signature
    a model cannot call (``*args``, ``**kwargs``, positional-only parameters).
    """

    def make(inner: Callable[P, R]) -> FunctionTool[P, R]:
        return FunctionTool(inner, name=name, description=description)

    return make if function is None else make(function)


class PythonTool:
    """A FunctionTool as a session serves it: ``mcp__<server>__<name>``."""

    def __init__(self, function: FunctionTool[..., Any], server: str = SDK_SERVER) -> None:
        self.function = function
        self._name = tool_name(server, function.name)

    @property
    def name(self) -> str:
        return self._name

    def spec(self) -> ToolSpec:
        return ToolSpec(self._name, self.function.description, self.function.input_schema)

    def run(self, input: dict[str, Any], session: ToolSession) -> ToolResult:
        return self.function.invoke(input)


def python_tools(
    functions: Iterable[FunctionTool[..., Any] | Callable[..., Any]], server: str = SDK_SERVER
) -> list[PythonTool]:
    """The tools a session serves for ``functions`` (plain functions are made tools first);
    UserError when two end up with the same name."""
    served: dict[str, PythonTool] = {}
    for function in functions:
        made = function if isinstance(function, FunctionTool) else FunctionTool(function)
        served_tool = PythonTool(made, server)
        if served_tool.name in served:
            raise UserError(f"two Python tools are named {served_tool.name}; rename one")
        served[served_tool.name] = served_tool
    return list(served.values())


def _input_model(function: Callable[..., Any], name: str) -> tuple[type[BaseModel], dict[str, str]]:
    """A pydantic model of the function's parameters (each field aliased to its parameter, so
    that no name clashes with pydantic's own), and field -> parameter."""
    hints = typing.get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    parameters: dict[str, str] = {}
    for index, parameter in enumerate(inspect.signature(function).parameters.values()):
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise TypeError(
                f"tool {name}: parameter {parameter.name} is {parameter.kind.description}; "
                "a tool takes named parameters only"
            )
        default = ... if parameter.default is parameter.empty else parameter.default
        field = f"p{index}"
        fields[field] = (hints.get(parameter.name, Any), Field(default, alias=parameter.name))
        parameters[field] = parameter.name
    model = create_model(f"{name}_input", __config__=ConfigDict(extra="forbid"), **fields)
    return model, parameters


def _as_result(output: Any) -> ToolResult:
    """What a function returned, as the model reads it: text as it is, a ToolResult as it is,
    anything else as JSON."""
    if isinstance(output, ToolResult):
        return output
    if output is None:
        return ToolResult(NO_CONTENT)
    if isinstance(output, str):
        return ToolResult(truncate(output) or NO_CONTENT)
    try:
        text = json.dumps(to_jsonable_python(output), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(output)
    return ToolResult(truncate(text))
