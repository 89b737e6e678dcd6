"""GraphQL type definitions in code (Apollo and others): ``gql``/``graphql`` tagged templates
and strings assigned to ``typeDefs``/``schema``, one ``graphql`` endpoint per root field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, Value
from backend_agent.analysis.endpoints.javascript.syntax import line_of
from backend_agent.analysis.endpoints.model import Endpoint

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.scan import Scanner

_SDL_NAMES = ("typedefs", "typedef", "schema", "sdl")


def maybe_sdl(scanner: Scanner, name: str, node: Node) -> None:
    """``const typeDefs = `type Query {...}```: a string assigned to an SDL-like name."""
    if node.type in ("template_string", "string") and name.lower() in _SDL_NAMES:
        sdl_arg(scanner, (scanner.value(node),), line_of(node))


def sdl_arg(scanner: Scanner, args: tuple[Value, ...], line: int) -> None:
    if args and args[0][0] == "str":
        scanner.facts.graphql_sdl.append((args[0][1], line))
    elif args and args[0][0] == "tpl":  # ${fragments}: keep the literal parts
        text = "".join(p[1] if p[0] == "str" else "\n" for p in args[0][1])
        scanner.facts.graphql_sdl.append((text, line))


def sdl_endpoints(facts: Mapping[str, FileFacts]) -> list[Endpoint]:
    from backend_agent.analysis.endpoints.graphql import sdl_operations

    found: list[Endpoint] = []
    for file, file_facts in facts.items():
        for sdl, line in file_facts.graphql_sdl:
            for operation in sdl_operations(sdl):
                found.append(
                    Endpoint(
                        "graphql",
                        operation.method,
                        operation.name,
                        operation.auth,
                        "apollo",
                        operation.type_name,
                        file,
                        line + operation.line - 1,
                    )
                )
    return found
