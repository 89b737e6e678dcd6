"""Secrets committed in configuration files: ``.env`` files, Rails-style ``config/*.yml``, and
key files (a Rails ``master.key``, PEM private keys).

Each ``KEY=value`` (or ``key: value``) whose name is a signing key is ``weak-secret``; one whose
name is another secret (a password, a token) is ``hardcoded-secret``, with the same filters as
in code. YAML sections for development and test are skipped, as are ERB and ``${…}`` values
and example files (``.env.example``).
"""

from __future__ import annotations

import re

from backend_agent.analysis.security.engine import FileContext
from backend_agent.analysis.security.secrets import classify

_DOTENV = re.compile(r"\.env(\.(?!example$|sample$|template$|dist$|defaults$)[\w.-]+)?")
_CONFIG_YAML = re.compile(r"(^|/)config/[\w.-]+\.ya?ml")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*[=:]\s*(.*?)\s*$")
_KEY_FILE = re.compile(r"(^|/)config/(master|credentials/[\w-]+)\.key$|\.(pem|key)$")
_LOCAL_FILE = re.compile(r"(?i)dev|test|local|example|sample")
_UNDEPLOYED = re.compile(r"(development|test|dev|local)\w*:")


def config_file(path: str) -> bool:
    """Whether ``path`` is a ``.env`` file (not an example), a YAML file under config/
    that is not for development or tests, or a key file (``master.key``, ``*.pem``)."""
    name = path.rsplit("/", 1)[-1]
    if _DOTENV.fullmatch(name) or _KEY_FILE.search(path):
        return True
    return bool(_CONFIG_YAML.search(path)) and not _LOCAL_FILE.search(name)


def scan_config(path: str, source: bytes) -> FileContext:
    """Secret-named settings with literal values, line by line."""
    ctx = FileContext(path, "config")
    if _KEY_FILE.search(path):
        _check_key_file(ctx, source)
        return ctx
    section_skipped = False
    for number, line in enumerate(source.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and line.rstrip().endswith(":"):  # a YAML section
            section_skipped = bool(_UNDEPLOYED.fullmatch(line.strip()))
            continue
        match = _ASSIGNMENT.match(line)
        if match is None or section_skipped:
            continue
        name, value = match.group(1), _unquote(match.group(2))
        _check(ctx, number, name, value)
    return ctx


def _check(ctx: FileContext, line: int, name: str, value: str) -> None:
    if value.startswith(("<%", "!", "&", "*")):  # ERB, YAML tags, anchors and aliases
        return
    found = classify(name, value)
    if found is not None:
        ctx.emit_at(found[0], line, found[1])


def _check_key_file(ctx: FileContext, source: bytes) -> None:
    """A committed Rails master key decrypts the credentials; a private key signs as you."""
    if ctx.path.endswith(".key") and "/config/" in f"/{ctx.path}" and len(source.strip()) >= 16:
        ctx.emit_at("weak-secret", 1, "the Rails master key is committed with the code")
    elif b"PRIVATE KEY-----" in source[:4096]:
        message = "a private key is committed with the code"
        ctx.emit_at("hardcoded-secret.token-format", 1, message)


def _unquote(value: str) -> str:
    value = re.sub(r"\s+#.*$", "", value)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
