"""Project-level rules: what the whole application lacks (rate limiting, headers, CSRF, auth).

Each language module recognises, file by file, where HTTP applications are created and which
protections are imported or configured ("signals"). Once every file is scanned, the missing
protections are reported once per language, at the line where the first application is made,
and endpoint-level gaps (no auth, no rate limit on login) at the endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from backend_agent.analysis.endpoints.model import Endpoint, Inventory
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.parsing import language_for
from backend_agent.analysis.security.auth_routes import (
    STATE_CHANGING,
    form_controllers,
    obtains_credentials,
    public_by_design,
)
from backend_agent.analysis.security.engine import AppSite, FileContext
from backend_agent.analysis.security.rules import RULES

HEADER_NAMES = (
    r"(?i:content-security-policy|strict-transport-security|x-content-type-options|"
    r"x-frame-options)"
)
# Frameworks whose defaults already send security headers.
_DEFAULT_HEADERS = frozenset({"rails", "sinatra", "hanami"})
_FAMILIES = {"typescript": "javascript", "tsx": "javascript"}
_LANGUAGES = ("python", "javascript", "go", "ruby")
# A handler expression that wraps the handler in an authentication check.
_AUTH_WRAPPER = re.compile(r"(?i)\b\w*(auth|login|signed_?in|protect|guard)\w*\(")


@dataclass(frozen=True)
class Signals:
    """Patterns over imported module names and string literals, by signal kind."""

    imports: tuple[tuple[str, str], ...]  # (signal, pattern over module names)
    strings: tuple[tuple[str, str], ...]  # (signal, pattern over whole string literals)

    def see_import(self, module: str, ctx: FileContext) -> None:
        for kind, pattern in self.imports:
            if re.match(pattern, module):
                ctx.signals.add(kind)

    def see_string(self, value: str, ctx: FileContext) -> None:
        if len(value) > 200:
            return
        for kind, pattern in self.strings:
            if re.fullmatch(pattern, value):
                ctx.signals.add(kind)


# (language, signal, pattern over imported module names); "mongodb" is a document database.
_IMPORTS = (
    ("python", "rate-limit", r"(flask_limiter|slowapi|django_ratelimit|ratelimit|fastapi_limiter"
     r"|aiohttp_ratelimiter|limits)(\.|$)"),
    ("python", "security-headers", r"(flask_talisman|talisman|secure)(\.|$)"),
    ("python", "csrf", r"(flask_wtf|flask_seasurf|starlette_csrf|fastapi_csrf_protect"
     r"|aiohttp_csrf|asgi_csrf)(\.|$)"),
    ("python", "sessions", r"(flask\.session|flask_login|flask_session"
     r"|starlette\.middleware\.sessions|aiohttp_session)(\.|$)"),
    ("python", "mongodb", r"(pymongo|motor|mongoengine|beanie|odmantic|djongo|flask_pymongo"
     r"|flask_mongoengine)(\.|$)"),
    ("javascript", "rate-limit", r"(express-rate-limit|rate-limiter-flexible|@nestjs/throttler"
     r"|@fastify/rate-limit|fastify-rate-limit|koa-ratelimit|express-slow-down|express-brute"
     r"|express-limiter|koa2-ratelimit|hapi-rate-limit)$"),
    ("javascript", "security-headers", r"(helmet|@fastify/helmet|fastify-helmet|koa-helmet"
     r"|lusca)$"),
    ("javascript", "csrf", r"(csurf|csrf-csrf|csrf-sync|lusca|@fastify/csrf-protection|koa-csrf"
     r"|tiny-csrf)$"),
    ("javascript", "sessions", r"(express-session|cookie-session|@fastify/session"
     r"|@fastify/secure-session|@fastify/cookie|koa-session)$"),
    ("javascript", "mongodb", r"(mongodb|mongoose|monk|mongojs|mongoist|@nestjs/mongoose"
     r"|@typegoose/typegoose|marsdb|nedb|@seald-io/nedb)$"),
    ("go", "rate-limit", r"(golang\.org/x/time/rate|github\.com/(ulule/limiter|didip/tollbooth"
     r"|go-chi/httprate|sethvargo/go-limiter)|github\.com/gofiber/fiber/v\d/middleware/limiter)"),
    ("go", "security-headers", r"github\.com/(unrolled/secure|gin-contrib/secure"
     r"|gofiber/fiber/v\d/middleware/helmet)"),
    ("go", "csrf", r"github\.com/(gorilla/csrf|justinas/nosurf|utrack/gin-csrf"
     r"|gofiber/fiber/v\d/middleware/csrf)"),
    ("go", "sessions", r"github\.com/(gorilla/sessions|gin-contrib/sessions|alexedwards/scs"
     r"|gofiber/fiber/v\d/middleware/session)"),
    ("go", "mongodb", r"(go\.mongodb\.org/mongo-driver|gopkg\.in/mgo|github\.com/globalsign/mgo"
     r"|github\.com/kamva/mgm)"),
    ("ruby", "rate-limit", r"(rack-attack|rack/attack|rack-throttle|rack/throttle)$"),
    ("ruby", "security-headers", r"(secure_headers)$"),
    ("ruby", "csrf", r"(rack_csrf|rack/csrf)$"),
    ("ruby", "mongodb", r"(mongoid|mongo|mongo_mapper)$"),
)  # fmt: skip
# (language, signal, pattern over whole string literals): Django settings, header names.
_STRINGS = (
    ("python", "rate-limit", r"DEFAULT_THROTTLE_(CLASSES|RATES)|rest_framework\.throttling\..*"),
    ("python", "rate-limit.global", r"DEFAULT_THROTTLE_CLASSES"),
    ("python", "security-headers", r"django\.middleware\.security\.SecurityMiddleware"),
    ("python", "csrf", r"django\.middleware\.csrf\.CsrfViewMiddleware"),
    ("python", "sessions", r"django\.contrib\.sessions\.middleware\.SessionMiddleware"),
    *((language, "security-headers", HEADER_NAMES) for language in _LANGUAGES),
)
SIGNALS = {
    language: Signals(
        tuple((kind, pattern) for lang, kind, pattern in _IMPORTS if lang == language),
        tuple((kind, pattern) for lang, kind, pattern in _STRINGS if lang == language),
    )
    for language in _LANGUAGES
}


def project_findings(contexts: Iterable[FileContext]) -> list[Finding]:
    """Missing rate limiting, security headers and CSRF protection, per language."""
    apps = first_apps(contexts)
    signals = language_signals(contexts)
    findings = []
    for language, site in sorted(apps.items()):
        found = signals.get(language, set())
        where = f"the {site.framework} application"
        if "rate-limit" not in found:
            findings.append(_at(site, "missing-rate-limit", f"{where} has no rate limiting"))
        if "security-headers" not in found and site.framework not in _DEFAULT_HEADERS:
            message = f"{where} sets no security headers"
            findings.append(_at(site, "missing-security-headers", message))
        if "sessions" in found and "csrf" not in found:
            message = f"{where} uses cookie sessions without CSRF protection"
            findings.append(_at(site, "missing-csrf", message))
    return findings


def missing_auth(inventory: Inventory, contexts: Iterable[FileContext] = ()) -> list[Finding]:
    """State-changing REST endpoints that the inventory says need no authentication.

    Login, sign-up, token, password-reset, logout, OAuth callback and webhook routes are
    public by design and are not reported; nor are handlers wrapped in an authentication check
    the inventory did not read (``mw.AuthCheck(handler)``), nor Rails routes whose controller
    does not define the action (``resources :users`` on a controller with ``index`` and
    ``show``).
    """
    contexts = list(contexts)
    forms = form_controllers(inventory.endpoints)
    return [
        _endpoint_finding(
            e, "missing-auth", f"{e.method} {e.path} changes state and requires no authentication"
        )
        for e in inventory.endpoints
        if e.kind == "rest"
        and e.method in STATE_CHANGING
        and e.auth == "none"
        and not public_by_design(e, forms)
        and not _AUTH_WRAPPER.search(e.handler)
        and _defined(e, contexts)
    ]


def unlimited_auth_endpoints(
    inventory: Inventory, contexts: Iterable[FileContext]
) -> list[Finding]:
    """Login, sign-up, password-reset and token endpoints that no rate limiter covers.

    Covered: a limiter applied to the whole application in that language; one named within
    a few lines of the route (``router.post('/login', loginLimiter, …)``, ``@limiter.limit``,
    ``@Throttle()``); one mounted on a prefix of its path (``app.use('/auth', limiter)``, a
    Rack::Attack throttle on that path); Rails ``rate_limit`` in the route's controller.
    Languages where no application was found are left alone: their files may not all have
    been scanned.
    """
    contexts = list(contexts)
    apps, signals = first_apps(contexts), language_signals(contexts)
    by_path = {ctx.path: ctx for ctx in contexts}
    forms = form_controllers(inventory.endpoints)
    findings = []
    for endpoint in inventory.endpoints:
        language = _family(endpoint.file, by_path)
        if language not in apps or not obtains_credentials(endpoint, forms):
            continue
        if not _defined(endpoint, contexts):
            continue
        if "rate-limit.global" in signals.get(language, set()):
            continue
        if _limited(endpoint, contexts, by_path):
            continue
        message = (
            f"{endpoint.method} {endpoint.path} accepts credentials with no rate limit "
            "(passwords and codes can be guessed without end)"
        )
        findings.append(_endpoint_finding(endpoint, "missing-rate-limit.auth-endpoint", message))
    return findings


def first_apps(contexts: Iterable[FileContext]) -> dict[str, AppSite]:
    """The first application created in each language (by file, then line)."""
    apps: dict[str, AppSite] = {}
    for ctx in contexts:
        for site in ctx.apps:
            known = apps.get(site.language)
            if known is None or (site.file, site.line) < (known.file, known.line):
                apps[site.language] = site
    return apps


def language_signals(contexts: Iterable[FileContext]) -> dict[str, set[str]]:
    signals: dict[str, set[str]] = {}
    for ctx in contexts:
        signals.setdefault(ctx.language, set()).update(ctx.signals)
    return signals


def _limited(
    endpoint: Endpoint, contexts: list[FileContext], by_path: dict[str, FileContext]
) -> bool:
    here = by_path.get(endpoint.file)
    if here is not None and "rate-limit.file" in here.signals:
        return True
    if here is not None and any(
        line in here.limited_lines for line in range(endpoint.line - 3, endpoint.line + 3)
    ):
        return True
    controller = endpoint.handler.split("#", 1)[0] if "#" in endpoint.handler else None
    for ctx in contexts:
        if controller and ctx.path.endswith(f"{controller}_controller.rb") and ctx.limited_lines:
            return True
        if ctx.language == _family(endpoint.file, by_path) and any(
            endpoint.path.startswith(prefix.rstrip("/")) for prefix in ctx.limited_paths
        ):
            return True
    return False


def _defined(endpoint: Endpoint, contexts: list[FileContext]) -> bool:
    """False for a Rails route whose scanned controller does not define the action."""
    controller, _, action = endpoint.handler.partition("#")
    if not action:
        return True
    suffix = f"{controller}_controller.rb"
    files = [c for c in contexts if c.path == suffix or c.path.endswith("/" + suffix)]
    return not files or any(action in c.definitions for c in files)


def _family(path: str, by_path: dict[str, FileContext]) -> str:
    if path in by_path:
        return by_path[path].language
    language = language_for(path) or ""
    return _FAMILIES.get(language, language)


def _endpoint_finding(endpoint: Endpoint, rule_id: str, message: str) -> Finding:
    rule = RULES[rule_id]
    message += f" ({endpoint.handler})"
    return Finding(rule_id, rule.severity, message, endpoint.file, endpoint.line, rule.fix)


def _at(site: AppSite, rule_id: str, message: str) -> Finding:
    rule = RULES[rule_id]
    return Finding(rule_id, rule.severity, message, site.file, site.line, rule.fix)
