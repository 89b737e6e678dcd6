"""Values from configuration files: environment variables (``.env`` files, compose files) and
dotted keys of YAML/JSON configuration, for names the code reads from its environment."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONFIG_FILE = re.compile(
    r"(?:^|/)(?:\.env(?:\.[\w.-]+)?|[\w.-]+\.env|(?:docker-)?compose[\w.-]*\.ya?ml|"
    r"(?:config|settings|conf)/(?!locales/)[^/]+\.(?:ya?ml|json)|"
    r"(?:application|config|settings|appsettings)[\w.-]*\.(?:ya?ml|json))$"
)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=\s*(.*?)\s*$")
_ERB = re.compile(r"<%.*?%>", re.DOTALL)
# Example files are a fallback: a value from a real .env wins over one from .env.example.
_EXAMPLE = re.compile(r"\.(?:example|sample|dist|template|defaults?)$|\.env\.(?:test|ci)$")
_MAX_BYTES = 512_000
# Files read whole by other analyses (job schedules): their parsed document is kept.
_WHOLE = re.compile(r"schedul|sidekiq|cron|good_job|recurring", re.IGNORECASE)


@dataclass(frozen=True)
class ConfigFacts:
    """One configuration file: its environment assignments and flattened dotted keys."""

    env: tuple[tuple[str, str], ...] = ()
    keys: tuple[tuple[str, str], ...] = ()
    data: Any = None  # the parsed document, for files other analyses read whole
    lines: tuple[tuple[str, int], ...] = ()  # dotted key -> line, for those files


def is_config_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if not name.endswith((".yml", ".yaml", ".json")) and ".env" not in name:
        return False  # the common case, settled without the regular expression
    return CONFIG_FILE.search(path) is not None


def scan_config(path: str, source: bytes) -> ConfigFacts:
    """Parse a configuration file; unreadable files give empty facts (never an error)."""
    if len(source) > _MAX_BYTES:
        return ConfigFacts()
    text = source.decode("utf-8", "replace")
    name = path.rsplit("/", 1)[-1]
    if name.startswith(".env") or name.endswith(".env"):
        return ConfigFacts(env=tuple(_dotenv(text)))
    data = _load(name, text)
    if data is None:
        return ConfigFacts()
    env: list[tuple[str, str]] = []
    if "compose" in name and isinstance(data, dict):
        env = _compose_env(data)
    keys: list[tuple[str, str]] = []
    _flatten(data, "", keys)
    if not _WHOLE.search(name):
        return ConfigFacts(tuple(env), tuple(keys))
    return ConfigFacts(tuple(env), tuple(keys), data, tuple(_key_lines(text)))


@dataclass
class ConfigIndex:
    """Looks environment variables and dotted keys up across every configuration file."""

    facts: Mapping[str, ConfigFacts]
    _env: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    _keys: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path, facts in self.facts.items():
            rank = "example" if _EXAMPLE.search(path) else "real"
            for name, value in facts.env:
                self._env.setdefault(name, {}).setdefault(rank, set()).add(value)
            for key, value in facts.keys:
                self._keys.setdefault(_normal(key), set()).add(value)

    def env(self, name: str) -> tuple[str | None, str]:
        """(value, "") or (None, why): a real value wins over an example's; several differing
        values are not a value."""
        ranks = self._env.get(name)
        if not ranks:
            return None, f"environment variable {name} is not set in any .env or compose file"
        values = ranks.get("real") or ranks.get("example") or set()
        if len(values) > 1:
            listed = ", ".join(sorted(values))
            return None, f"environment variable {name} has several values ({listed})"
        return next(iter(values)), ""

    def key(self, dotted: str) -> tuple[str | None, str]:
        """A configuration key (``kafka.topics.orders``, compared without case, ``_`` and
        ``-``); also under one environment section (``production.kafka...``) when only one
        section defines it."""
        wanted = _normal(dotted)
        values = self._keys.get(wanted)
        if not values:
            values = set()
            for key, found in self._keys.items():
                if key.endswith("." + wanted) and key.count(".") == wanted.count(".") + 1:
                    values |= found
        if not values:
            return None, f"configuration key {dotted} is not in any configuration file"
        if len(values) > 1:
            return None, f"configuration key {dotted} has several values"
        return next(iter(values)), ""


def _normal(key: str) -> str:
    """Keys compare case-insensitively and without ``_``/``-`` (``queue_url`` = ``QueueURL``)."""
    return key.lower().replace("_", "").replace("-", "")


def _dotenv(text: str) -> list[tuple[str, str]]:
    found = []
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        value = match.group(2)
        if value[:1] in ("'", '"') and value.endswith(value[0]) and len(value) >= 2:
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        found.append((match.group(1), value))
    return found


def _load(name: str, text: str) -> Any:
    if name.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError:
            return None
    import yaml

    try:
        documents = [d for d in yaml.safe_load_all(_ERB.sub("", text)) if d is not None]
    except yaml.YAMLError:
        return None
    return documents[0] if len(documents) == 1 else documents or None


def _key_lines(text: str) -> list[tuple[str, int]]:
    """The line of every mapping key of a YAML document, by dotted path (``:schedule:``
    keys lose their colons, as in ``_flatten``)."""
    import yaml

    try:
        root = yaml.compose(_ERB.sub("", text))
    except yaml.YAMLError:
        return []
    found: list[tuple[str, int]] = []
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, prefix = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, item in node.value:
                name = (
                    f"{prefix}.{str(key.value).lstrip(':')}"
                    if prefix
                    else str(key.value).lstrip(":")
                )
                found.append((name, key.start_mark.line + 1))
                stack.append((item, name))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{prefix}[{index}]") for index, item in enumerate(node.value))
    return found


def _compose_env(data: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    services = data.get("services")
    for service in services.values() if isinstance(services, dict) else []:
        environment = service.get("environment") if isinstance(service, dict) else None
        if isinstance(environment, dict):
            found += [(str(k), _scalar(v)) for k, v in environment.items() if _is_scalar(v)]
        elif isinstance(environment, list):
            for item in environment:
                name, equals, value = str(item).partition("=")
                if equals:
                    found.append((name.strip(), value.strip()))
    return found


def _flatten(data: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            name = str(key).lstrip(":")
            _flatten(value, f"{prefix}.{name}" if prefix else name, out)
    elif prefix and _is_scalar(data):
        out.append((prefix, _scalar(data)))


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _scalar(value: Any) -> str:
    return str(value)
