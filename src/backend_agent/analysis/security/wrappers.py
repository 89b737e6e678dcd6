"""One step across functions: request data passed to a function that hands it to a sink.

While scanning, a function whose parameter reaches a sink (``def System(cmd): exec.Command(
"sh", "-c", cmd)``) is recorded as a wrapper of that sink, and every call passing request data
or a built string is recorded too. Matching them by function name and argument position, in
the same language, reports the call (``System("ping " + r.FormValue("host"))``).
"""

from __future__ import annotations

from collections.abc import Iterable

from backend_agent.analysis.findings import Finding
from backend_agent.analysis.security.engine import FileContext, Passing, Wrapper
from backend_agent.analysis.security.rules import RULES
from backend_agent.analysis.security.sinks import SQL_TEXT

_VERBS = {
    "sql-injection": "runs it as SQL",
    "nosql-injection": "uses it in a MongoDB query",
    "command-injection": "runs it in a shell",
    "code-injection": "evaluates it",
    "insecure-deserialization": "deserializes it",
    "open-redirect": "redirects to it",
    "ssrf": "fetches it",
}


def wrapper_findings(contexts: Iterable[FileContext]) -> list[Finding]:
    """Calls that pass request data (or, where the sink takes them, built strings) to a
    wrapper of a sink defined in any file of the same language."""
    contexts = list(contexts)
    wrappers: dict[tuple[str, str, int], dict[str, Wrapper]] = {}
    for ctx in contexts:
        for found in ctx.wrappers:
            key = (ctx.language, found.function, found.parameter)
            wrappers.setdefault(key, {}).setdefault(found.rule, found)
    findings = []
    for ctx in contexts:
        if ctx.role != "app":
            continue
        for passing in ctx.passings:
            key = (ctx.language, passing.function, passing.argument)
            for wrapper in wrappers.get(key, {}).values():
                if _reaches(passing, wrapper) and (wrapper.file, wrapper.line) != (
                    ctx.path,
                    passing.line,
                ):
                    findings.append(_finding(passing, wrapper, ctx.path))
    return findings


def _reaches(passing: Passing, wrapper: Wrapper) -> bool:
    """SQL sinks need SQL text; shells and templates take built strings; the rest, request
    data."""
    if wrapper.data == "built-sql":
        return SQL_TEXT.search(passing.text) is not None
    return wrapper.data == "either" or passing.kind == "tainted"


def _finding(passing: Passing, wrapper: Wrapper, path: str) -> Finding:
    rule = RULES[wrapper.rule]
    data = "request data" if passing.kind == "tainted" else "a built string"
    message = (
        f"{passing.callee}() passes {data} to {wrapper.function}(), which "
        f"{_VERBS[wrapper.rule]} ({wrapper.file}:{wrapper.line})"
    )
    return Finding(wrapper.rule, rule.severity, message, path, passing.line, rule.fix)
