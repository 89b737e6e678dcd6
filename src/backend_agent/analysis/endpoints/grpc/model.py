"""What a .proto file defines that matters to a contract: messages, enums, services and RPCs
with their ``google.api.http`` bindings (built by ``reader``, compared by ``compat``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from backend_agent.analysis.endpoints.model import normalise_path


class ProtoSyntaxError(ValueError):
    """The file is not valid protobuf; the message starts with ``line N:``."""


@dataclass
class Field:
    name: str
    number: int
    type: str
    label: str  # "", "optional", "required", "repeated" or "map"
    line: int


@dataclass
class Message:
    name: str  # full name within the package, e.g. "Book.Author"
    line: int
    fields: dict[str, Field] = field(default_factory=dict)
    reserved_numbers: set[int] = field(default_factory=set)
    reserved_ranges: list[tuple[int, int]] = field(default_factory=list)
    reserved_names: set[str] = field(default_factory=set)

    def reserves(self, number: int) -> bool:
        return number in self.reserved_numbers or any(
            a <= number <= b for a, b in self.reserved_ranges
        )


@dataclass
class Enum:
    name: str
    line: int
    values: dict[str, int] = field(default_factory=dict)
    reserved_numbers: set[int] = field(default_factory=set)
    reserved_names: set[str] = field(default_factory=set)


@dataclass
class HttpRule:
    method: str
    path: str
    body: str


@dataclass
class Rpc:
    name: str
    request: str
    response: str
    client_streaming: bool
    server_streaming: bool
    line: int
    http: list[HttpRule] = field(default_factory=list)


@dataclass
class Service:
    name: str
    line: int
    rpcs: dict[str, Rpc] = field(default_factory=dict)


@dataclass
class ProtoFile:
    package: str = ""
    syntax: str = "proto2"
    messages: dict[str, Message] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)


def http_path(template: str) -> str:
    """A google.api.http path template as a normalised path.

    ``/v1/{name=shelves/*}`` -> ``/v1/shelves/{name}``: literal segments of a variable's
    pattern stay, its last wildcard takes the variable's name, earlier ones are numbered.
    """

    def expand(match: re.Match[str]) -> str:
        name, pattern = match.group(1), match.group(2)
        if pattern is None:
            return "{" + name + "}"
        segments = pattern.split("/")
        stars = [i for i, s in enumerate(segments) if s in ("*", "**")]
        for count, index in enumerate(stars):
            segments[index] = "{" + (name if index == stars[-1] else f"{name}_{count + 1}") + "}"
        return "/".join(segments)

    return normalise_path(re.sub(r"\{([\w.]+)(?:=([^}]*))?\}", expand, template))
