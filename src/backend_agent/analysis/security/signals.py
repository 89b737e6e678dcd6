"""Project-level rules: what the whole application lacks (rate limiting, headers, CSRF, auth).

Each language module recognises, file by file, where HTTP applications are created and which
protections are imported or configured ("signals"). Once every file is scanned, the missing
protections are reported once per language, at the line where the first application is made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.security.engine import AppSite, FileContext
from backend_agent.analysis.security.rules import RULES

HEADER_NAMES = (
    r"(?i:content-security-policy|strict-transport-security|x-content-type-options|"
    r"x-frame-options)"
)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Endpoints that are public by design: where a client gets its credentials in the first place.
_AUTHENTICATION_ENTRY = re.compile(
    r"(?i)/(log-?in|sign-?in|sign_in|sign-?up|sign_up|register|registration|session|sessions|"
    r"token|access-token|refresh|refresh-token|forgot-password|reset-password|password-reset|"
    r"oauth|callback|webhooks?)(/|$)"
)
# The same, recognised by the handler's own name when the path is a plain collection
# (RealWorld-style registration is ``POST /api/users`` handled by ``register``).
_AUTHENTICATION_HANDLER = re.compile(
    r"(?i)(^|[^a-z])(log_?in|sign_?in|sign_?up|register|registration|authenticate|"
    r"create_?session|obtain_?token|refresh_?token)[a-z]*$"
)
# Frameworks whose defaults already cover a protection (Rails and Sinatra set security
# headers; Rails' ActionController::Base checks CSRF tokens unless told not to).
_DEFAULT_HEADERS = frozenset({"rails", "sinatra"})
_DEFAULT_CSRF = frozenset({"rails"})


@dataclass(frozen=True)
class Signals:
    """Patterns over imported module names and string literals, by signal kind."""

    imports: Mapping[str, str]
    strings: Mapping[str, str]

    def see_import(self, module: str, ctx: FileContext) -> None:
        for kind, pattern in self.imports.items():
            if re.match(pattern, module):
                ctx.signals.add(kind)

    def see_string(self, value: str, ctx: FileContext) -> None:
        if len(value) > 200:
            return
        for kind, pattern in self.strings.items():
            if re.fullmatch(pattern, value):
                ctx.signals.add(kind)


def project_findings(contexts: Iterable[FileContext]) -> list[Finding]:
    """Missing rate limiting, security headers and CSRF protection, per language."""
    apps: dict[str, AppSite] = {}
    signals: dict[str, set[str]] = {}
    for ctx in contexts:
        signals.setdefault(ctx.language, set()).update(ctx.signals)
        for site in ctx.apps:
            known = apps.get(site.language)
            if known is None or (site.file, site.line) < (known.file, known.line):
                apps[site.language] = site
    findings = []
    for language, site in sorted(apps.items()):
        found = signals.get(language, set())
        where = f"the {site.framework} application"
        if "rate-limit" not in found:
            findings.append(_at(site, "missing-rate-limit", f"{where} has no rate limiting"))
        if "security-headers" not in found and site.framework not in _DEFAULT_HEADERS:
            message = f"{where} sets no security headers"
            findings.append(_at(site, "missing-security-headers", message))
        csrf = "csrf" in found or site.framework in _DEFAULT_CSRF
        if "sessions" in found and not csrf:
            message = f"{where} uses cookie sessions without CSRF protection"
            findings.append(_at(site, "missing-csrf", message))
    return findings


def missing_auth(inventory: Inventory) -> list[Finding]:
    """State-changing REST endpoints that the inventory says need no authentication.

    Login, sign-up, token, password-reset, OAuth callback and webhook routes are public by
    design and are not reported.
    """
    rule = RULES["missing-auth"]
    return [
        Finding(
            rule.id,
            rule.severity,
            f"{e.method} {e.path} changes state and requires no authentication ({e.handler})",
            e.file,
            e.line,
            rule.fix,
        )
        for e in inventory.endpoints
        if e.kind == "rest"
        and e.method in STATE_CHANGING
        and e.auth == "none"
        and not _AUTHENTICATION_ENTRY.search(e.path)
        and not _AUTHENTICATION_HANDLER.search(e.handler)
    ]


def _at(site: AppSite, rule_id: str, message: str) -> Finding:
    rule = RULES[rule_id]
    return Finding(rule_id, rule.severity, message, site.file, site.line, rule.fix)
