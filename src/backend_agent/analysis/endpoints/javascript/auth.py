"""What middleware, hooks and guards in front of a Node.js route mean for its auth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from backend_agent.analysis.endpoints.javascript.facts import Value, describe
from backend_agent.analysis.endpoints.javascript.values import Evaluator, Thing
from backend_agent.analysis.endpoints.model import Auth, normalise_path

TRUE: Value = ("unknown", "true")
FALSE: Value = ("unknown", "false")
_AUTH = re.compile(
    r"auth|jwt|passport\.authenticate|bearer|token|protect|logged|signed.?in|"
    r"require.?(?:user|login|admin|session)|ensure.?(?:user|login|logged)|role|permission|"
    r"admin|acl\b|optional.?(?:user|login)"
)
_OPTIONAL = re.compile(
    r"optional|maybe|soft|try.?auth|if.?auth|lenient|loose|anonymous|"
    r"\(\s*false\s*\)|required\s*:\s*false"  # verifyAuth(false), auth({required: false})
)
_NOT_AUTH = re.compile(r"csrf|throttl|ratelimit|rate.?limit|limiter|not.?auth")
# Passport's "local" strategy checks a username and password: it is the login, not a guard.
LOGIN = re.compile(r"(?:authenticate|AuthGuard)\(\s*['\"]local['\"]")
# Route config keys that switch an auth hook off when true (``config: {public: true}``).
_OPT_OUT = re.compile(r"public|skip|no.?auth|anonymous|allow|open|unprotected", re.IGNORECASE)


def middleware_auth(text: str) -> Auth | None:
    """What one middleware or guard name says about auth, or None when it says nothing."""
    lowered = text.lower()
    if _NOT_AUTH.search(lowered) or not _AUTH.search(lowered):
        return None
    return "optional" if _OPTIONAL.search(lowered) else "required"


@dataclass(frozen=True)
class Guard:
    """One middleware's meaning for auth: the requests an ``.unless(...)`` exempts, and the
    route ``config`` keys a hook reads to switch itself per route."""

    level: Auth | None
    exempt: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (kind, pattern, methods)
    opaque: bool = False  # the exemptions include something we cannot read
    switches: tuple[str, ...] = ()  # route config keys the hook reads

    def level_for(
        self, method: str, path: str, config: dict[str, Any] | None = None
    ) -> Auth | None:
        if self.level is None:
            return None
        for key in self.switches:
            switched = _switched(key, (config or {}).get(key), self.level)
            if switched != self.level:
                return switched
        if not (self.exempt or self.opaque):
            return self.level
        sample = re.sub(r"\{[^}]*\}", "p1", path)
        for kind, pattern, methods in self.exempt:
            if methods and method not in methods:
                continue
            if kind == "any" or (kind == "path" and normalise_path(pattern) in (path, sample)):
                return None
            if kind == "regex" and _regex_matches(pattern, sample):
                return None
        return "unknown" if self.opaque else self.level


def _switched(key: str, value: Any, level: Auth) -> Auth | None:
    """A hook's level for a route whose config sets ``key`` to ``value`` (None: not set)."""
    if value is None:
        return level
    if _OPT_OUT.search(key):
        return None if value is True else level
    if value is False:
        return None
    if isinstance(value, str):
        lowered = value.lower()
        if "optional" in lowered:
            return "optional"
        return None if lowered in ("none", "public", "anonymous", "off") else level
    return level if value is True else "unknown"


def combine_auth(levels: list[Auth | None]) -> Auth:
    """A route's auth from the levels of all middleware in front of it."""
    if "required" in levels:
        return "required"
    if "unknown" in levels:  # an exemption we could not read may or may not apply
        return "unknown"
    return "optional" if "optional" in levels else "none"


class GuardReader:
    """Reads middleware values (names, token-library options, ``unless`` exemptions, hooks)."""

    def __init__(self, values: Evaluator) -> None:
        self.values = values

    def guard(self, file: str, value: Value) -> Guard:
        """What a middleware means for auth: by its name, made optional by the options of
        token libraries that let requests without a token through, with the requests its
        ``.unless({path, method})`` (express-unless, koa-unless) exempts; an anonymous hook
        that checks credentials is an auth guard, switched per route by the config it reads."""
        if value[0] == "call" and value[1][0] == "member" and value[1][2] == "unless":
            inner = self.guard(file, value[1][1])
            return self._unless(file, inner, value[2][0]) if value[2] else inner
        thing = self.values.eval(file, value)
        if self._login(value, thing):
            return Guard(None)
        if thing.kind == "fn" and thing.file in self.values.facts:
            facts = self.values.facts[thing.file]
            switches = facts.config_reads.get(thing.name, ())
            if thing.name in facts.credential_functions and describe(value) == "<anonymous>":
                lenient = thing.name not in facts.rejecting  # reads a token only when sent
                return Guard("optional" if lenient else "required", switches=switches)
            level = middleware_auth(describe(value))
            reads = thing.name in facts.credential_functions
            if level == "required" and reads and thing.name not in facts.rejecting:
                level = "optional"  # reads a token when one is sent, turns nobody away
            return Guard(level, switches=switches if level else ())
        level = middleware_auth(describe(value))
        if level != "required":
            return Guard(level)
        for arg in thing.value if thing.kind == "external" else ():
            options = self.values.eval(thing.file, arg)
            fields = dict(options.value) if options.kind == "obj" else {}
            if fields.get("passthrough") == TRUE or fields.get("credentialsRequired") == FALSE:
                return Guard("optional")
        return Guard(level)

    def _login(self, value: Value, thing: Thing) -> bool:
        """``passport.authenticate('local')``, directly or inside a middleware function."""
        if LOGIN.search(describe(value)):
            return True
        functions = [thing] if thing.kind == "fn" else []
        if thing.kind == "external":  # a wrapper such as errorCatcher(async (req) => ...)
            functions = [self.values.eval(thing.file, arg) for arg in thing.value]
        for function in functions:
            facts = self.values.facts.get(function.file)
            calls = (
                facts.auth_calls.get(function.name, ()) if facts and function.kind == "fn" else ()
            )
            if any(LOGIN.search(call) for call in calls):
                return True
        return False

    def config(self, file: str, value: Value | None) -> dict[str, Any]:
        """A route's ``config`` option as literals (``true``/``false``/strings)."""
        thing = self.values.eval(file, value) if value is not None else None
        if thing is None or thing.kind != "obj":
            return {}
        found: dict[str, Any] = {}
        for key, item in thing.value:
            if item in (TRUE, FALSE):
                found[key] = item == TRUE
            else:
                strings = self.values.strings(thing.file, item)
                found[key] = strings[0] if strings else "?"
        return found

    def _unless(self, file: str, guard: Guard, options_value: Value) -> Guard:
        options = self.values.eval(file, options_value)
        if guard.level is None or options.kind != "obj":
            return Guard(guard.level, opaque=guard.level is not None)
        fields = dict(options.value)
        exempt: list[tuple[str, str, tuple[str, ...]]] = []
        opaque = False
        for method in self.values.strings(options.file, fields.get("method", ("arr", ()))) or []:
            exempt.append(("any", "", (method.upper(),)))
        paths = fields.get("path", ("arr", ()))
        for item in paths[1] if paths[0] == "arr" else (paths,):
            entry = self._exemption(options.file, item)
            if entry is None:
                opaque = True
            else:
                exempt.append(entry)
        return Guard(guard.level, tuple(exempt), opaque)

    def _exemption(self, file: str, item: Value) -> tuple[str, str, tuple[str, ...]] | None:
        """One ``path`` entry of ``unless``: a string, a regex or ``{url, methods}``."""
        methods: tuple[str, ...] = ()
        if item[0] == "obj":
            fields = dict(item[1])
            item = fields.get("url", ("unknown", ""))
            found = self.values.strings(file, fields.get("methods", ("arr", ())))
            if found is None:
                return None
            methods = tuple(m.upper() for m in found)
        if item[0] == "regex":
            return ("regex", str(item[1]), methods)
        strings = self.values.strings(file, item)
        return ("path", strings[0], methods) if strings and len(strings) == 1 else None


def _regex_matches(literal: str, path: str) -> bool:
    """A JavaScript regex literal (``/^\\/api\\/.*/i``) tested on a path; False when Python
    cannot read it."""
    source, _, flags = literal[1:].rpartition("/")
    try:
        return re.search(source, path, re.IGNORECASE if "i" in flags else 0) is not None
    except re.error:
        return False
