"""Strings of Go expressions across packages: literals, package constants (also of imported
packages of the repository), function-local assignments, ``fmt.Sprintf``, ``aws.String``,
``os.Getenv``/viper/config-struct fields (``.env``, compose and YAML files), and the names of
declared AMQP queues (``q.Name``) and looked-up SQS queues (``out.QueueUrl``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from backend_agent.analysis.endpoints.go.packages import PackageDirectories
from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.queues.config import ConfigIndex
from backend_agent.analysis.queues.go.scan import GoQueueFacts

_MAX_DEPTH = 12
_VERB = re.compile(r"%[-+# 0]*\d*(?:\.\d+)?[svdqx]")
_ENV_HELPER = re.compile(r"env", re.IGNORECASE)
_CONVERSIONS = ("string", "aws.String", "[]byte")


class GoValues:
    """Evaluates expressions of any file against the facts of all files."""

    def __init__(self, facts: Mapping[str, GoQueueFacts], config: ConfigIndex) -> None:
        self.sources = {p: f for p, f in facts.items() if p.endswith(".go")}
        modules = {_dir(p): f.module for p, f in facts.items() if p.endswith("go.mod")}
        self.packages = PackageDirectories(modules, {_dir(p) for p in self.sources})
        self.config = config
        self.by_dir: dict[str, list[str]] = {}
        for path in sorted(self.sources):
            self.by_dir.setdefault(_dir(path), []).append(path)
        self.sites: dict[str, list[tuple[str, int, str, tuple[Expr, ...], int]]] = {}
        for path, source in self.sources.items():
            for name, calls in source.sites.items():
                self.sites.setdefault(name, []).extend((path, *call) for call in calls)

    # ---- wrappers -----------------------------------------------------------------------

    def parameter(self, path: str, symbol: str, value: Expr) -> int | None:
        """The index of the enclosing function's parameter a value is (``topic``,
        ``string(taskName)``), or None."""
        while value[0] == "call" and render(value[1]) in _CONVERSIONS and value[2]:
            value = value[2][0]
        facts = self.sources.get(path)
        if facts is None or value[0] != "id":
            return None
        params = facts.params.get(symbol, ())
        if (
            str(value[1]) not in params
            or facts.locals.get(symbol, {}).get(str(value[1]), ("",))[0] != "type"
        ):
            return None
        return params.index(str(value[1]))

    def callers(self, path: str, symbol: str, index: int) -> list[tuple[str, int, str, Expr]]:
        """(file, line, enclosing function, argument) of the calls of a function that pass a
        literal or a name as its ``index``-th argument (calls of another arity excluded)."""
        name = symbol.rsplit(".", 1)[-1]
        arity = len(self.sources[path].params.get(symbol, ())) if path in self.sources else -1
        return [
            (file, line, caller, args[index])
            for file, line, caller, args, count in self.sites.get(name, [])
            if index < len(args) and (count < 0 or count == arity)
        ]

    # ---- names across files -------------------------------------------------------------

    def import_path(self, path: str, alias: str) -> str:
        return self.sources[path].imports.get(alias, "") if path in self.sources else ""

    def imports(self, path: str, fragment: str) -> bool:
        facts = self.sources.get(path)
        return facts is not None and any(fragment in p for p in facts.imports.values())

    def package_files(self, path: str, alias: str | None = None) -> list[str]:
        """The files of ``path``'s own package, or of the repository package it imports."""
        if alias is None:
            return self.by_dir.get(_dir(path), [])
        imported = self.import_path(path, alias)
        directory = self.packages.find(imported) if imported else None
        return self.by_dir.get(directory, []) if directory is not None else []

    def bound(self, path: str, symbol: str, value: Expr) -> tuple[str, str, Expr] | None:
        """What a name or ``pkg.Name`` is bound to: (file, function, expression)."""
        if value[0] == "id":
            local = self.sources[path].locals.get(symbol, {}) if path in self.sources else {}
            if value[1] in local:
                return path, symbol, local[value[1]]
            return self._constant(self.package_files(path), str(value[1]))
        if value[0] == "sel" and value[1][0] == "id" and value[1][1] in self.sources[path].imports:
            return self._constant(self.package_files(path, str(value[1][1])), str(value[2]))
        return None

    def _constant(self, files: list[str], name: str) -> tuple[str, str, Expr] | None:
        for file in files:
            found = self.sources[file].consts.get(name)
            if found is not None:
                return file, "", found
        return None

    def follow(self, path: str, symbol: str, value: Expr, depth: int = 0) -> tuple[str, str, Expr]:
        """Through names to the expression they hold (``&``, conversions kept as they are)."""
        while depth < _MAX_DEPTH and value[0] in ("id", "sel"):
            found = self.bound(path, symbol, value)
            if found is None:
                break
            path, symbol, value = found
            depth += 1
        return path, symbol, value

    # ---- strings ------------------------------------------------------------------------

    def string(self, path: str, symbol: str, value: Expr, depth: int = 0) -> tuple[str | None, str]:
        """(text, "") or (None, why it cannot be known)."""
        if depth > _MAX_DEPTH:
            return None, "the value is nested too deeply to follow"
        tag = value[0]
        if tag == "s":
            return str(value[1]), ""
        if tag == "+":
            left, why = self.string(path, symbol, value[1], depth + 1)
            right, why_right = self.string(path, symbol, value[2], depth + 1)
            if left is None or right is None:
                return None, why or why_right
            return left + right, ""
        if tag in ("id", "sel"):
            found = self.bound(path, symbol, value)
            if found is not None:
                return self.string(*found, depth + 1)
            if tag == "sel":
                return self._field(path, symbol, value, depth)
            return None, f"{render(value)} is not a constant this analysis can see"
        if tag == "call":
            return self._call(path, symbol, value, depth)
        if tag == "type":
            return None, f"a {value[1]} value known only at run time"
        return None, "the value is computed at run time"

    def strings(self, path: str, symbol: str, value: Expr) -> list[tuple[str | None, str, Expr]]:
        """Each element of a ``[]string{...}`` literal (or the one value)."""
        path, symbol, held = self.follow(path, symbol, value)
        items = held[3] if held[0] == "lit" and held[1].startswith("[]") else [held]
        return [(*self.string(path, symbol, item), item) for item in items]

    def _call(self, path: str, symbol: str, call: Expr, depth: int) -> tuple[str | None, str]:
        func, args = call[1], call[2]
        dotted = render(func) if func[0] != "call" else "?"
        if dotted in ("aws.String", "string", "aws.StringValue") and args:
            return self.string(path, symbol, args[0], depth + 1)
        if dotted in ("os.Getenv", "os.LookupEnv") and args:
            key, why = self.string(path, symbol, args[0], depth + 1)
            return self.config.env(key) if key is not None else (None, why)
        if dotted.startswith("viper.Get") and args:
            key, why = self.string(path, symbol, args[0], depth + 1)
            if key is None:
                return None, why
            found, why = self.config.key(key)
            return (
                (found, "") if found is not None else self.config.env(key.upper().replace(".", "_"))
            )
        if dotted == "fmt.Sprintf" and args:
            return self._sprintf(path, symbol, args, depth)
        if func[0] == "id" and _ENV_HELPER.search(str(func[1])) and args:
            key, why = self.string(path, symbol, args[0], depth + 1)
            found, why = self.config.env(key) if key is not None else (None, why)
            if found is None and len(args) > 1:
                return self.string(path, symbol, args[1], depth + 1)
            return found, why
        return None, f"{dotted}(...) is computed at run time"

    def _sprintf(
        self, path: str, symbol: str, args: list[Expr], depth: int
    ) -> tuple[str | None, str]:
        template, why = self.string(path, symbol, args[0], depth + 1)
        if template is None:
            return None, why
        values = [self.string(path, symbol, a, depth + 1) for a in args[1:]]
        missing = next((w for v, w in values if v is None), "")
        if missing or len(_VERB.findall(template)) != len(values):
            return None, missing or "fmt.Sprintf with arguments this analysis cannot see"
        texts = iter(v for v, _ in values)
        return _VERB.sub(lambda _: next(texts) or "", template), ""

    def _field(self, path: str, symbol: str, value: Expr, depth: int) -> tuple[str | None, str]:
        """``q.Name`` of a declared AMQP queue, ``out.QueueUrl`` of a looked-up SQS queue,
        else a configuration struct field (``cfg.Kafka.Topic`` -> key ``kafka.topic``)."""
        owner_path, owner_symbol, owner = self.follow(path, symbol, value[1])
        if owner[0] == "call" and owner[1][0] == "sel":
            method, args = owner[1][2], owner[2]
            if method == "QueueDeclare" and args:
                return self.string(owner_path, owner_symbol, args[0], depth + 1)
            if method in ("GetQueueUrl", "CreateQueue", "CreateTopic"):
                for arg in args:
                    literal = self.follow(owner_path, owner_symbol, arg)[2]
                    if literal[0] == "lit":
                        name = literal[2].get("QueueName") or literal[2].get("Name")
                        if name is not None:
                            return self.string(owner_path, owner_symbol, name, depth + 1)
        dotted = render(value)
        parts = dotted.split(".")[1:]
        if parts:
            found, why = self.config.key(".".join(p.lower() for p in parts))
            if found is not None:
                return found, ""
            return None, f"{dotted} is read at run time ({why})"
        return None, f"{dotted} is read at run time"


def render(value: Expr) -> str:
    """What is known of an expression, for messages and ``unresolved`` fragments."""
    tag = value[0]
    if tag == "s":
        return str(value[1])
    if tag == "id":
        return str(value[1])
    if tag == "sel":
        return f"{render(value[1])}.{value[2]}"
    if tag == "call":
        return f"{render(value[1])}(...)"
    if tag == "+":
        return render(value[1]) + render(value[2])
    if tag == "lit":
        return f"{value[1]}{{...}}"
    return "{?}"


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
