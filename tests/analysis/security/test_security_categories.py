"""The categories a reviewer expects, in every language: each fires on its plant and stays
silent on the clean twin; fewer false findings on build scripts, SQL ORMs and login routes."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.endpoints.model import Endpoint
from backend_agent.analysis.project import Project
from backend_agent.analysis.security import analyze_security
from backend_agent.analysis.security.auth_routes import obtains_credentials, public_by_design

FIXTURES = Path(__file__).parents[2] / "fixtures" / "security"
APPS = sorted(p.name for p in (FIXTURES / "apps").iterdir())
_MARKER = re.compile(r"(?:#|//) expect: ([\w.\- ]+)$")
_FAMILY = {".py": "python", ".js": "javascript", ".ts": "javascript", ".go": "go", ".rb": "ruby"}
NEW_CATEGORIES = [
    "code-injection",
    "insecure-deserialization",
    "ssrf",
    "missing-csrf",
    "debug-mode",
    "weak-secret",
    "missing-rate-limit.auth-endpoint",
]


def planted(root: Path) -> Counter[tuple[str, str, int]]:
    expected: Counter[tuple[str, str, int]] = Counter()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = _MARKER.search(line)
            for rule in match.group(1).split() if match else []:
                expected[(rule, path.relative_to(root).as_posix(), number)] += 1
    return expected


def findings(root: Path) -> Counter[tuple[str, str, int]]:
    project = Project(root)
    return Counter(
        (f.rule, f.file, f.line) for f in analyze_security(project, build_inventory(project))
    )


@pytest.mark.parametrize("app", APPS)
def test_each_app_reports_its_plants_and_nothing_else(app: str) -> None:
    root = FIXTURES / "apps" / app / "vulnerable"
    expected, found = planted(root), findings(root)
    assert found - expected == Counter(), "findings with no plant"
    assert expected - found == Counter(), "plants not found"


@pytest.mark.parametrize("app", APPS)
def test_each_app_twin_is_silent(app: str) -> None:
    assert findings(FIXTURES / "apps" / app / "clean") == Counter()


def test_every_new_category_is_planted_in_all_four_languages() -> None:
    roots = [
        FIXTURES / language / "vulnerable" for language in ("python", "javascript", "go", "ruby")
    ]
    roots += [FIXTURES / "apps" / app / "vulnerable" for app in APPS]
    languages: dict[str, set[str]] = {}
    for root in roots:
        for rule, file, _line in planted(root):
            family = _FAMILY.get(Path(file).suffix or ".rb")  # Gemfile, Rakefile
            if family is not None:
                languages.setdefault(rule, set()).add(family)
    for category in NEW_CATEGORIES:
        assert languages.get(category) == {"python", "javascript", "go", "ruby"}, category


# Every framework of the stack catalog: the fixture that turns its debug mode on (the clean
# twin at the same path turns it off), or why it has no debug switch to check.
DEBUG_SWITCHES: dict[str, str | None] = {
    "Express": "javascript/vulnerable/src/server.js",
    "NestJS": "javascript/vulnerable/web/nest/app.module.ts",
    "Koa": "javascript/vulnerable/web/koa/server.js",
    "Fastify": None,  # no debug mode: error replies never carry stack traces
    "hapi": None,  # its debug option only logs to the server console
    "Next.js": "javascript/vulnerable/web/next/server.js",
    "Nuxt": "javascript/vulnerable/web/nuxt/nuxt.config.ts",
    "Nitro": "javascript/vulnerable/web/nitro/nitro.config.ts",
    "h3": "javascript/vulnerable/web/h3/app.ts",
    "Apollo Server": "javascript/vulnerable/src/graphql.ts",
    "GraphQL Yoga": "javascript/vulnerable/web/yoga/server.ts",
    "Socket.IO": None,  # DEBUG=socket.io* logs on the server, never to clients
    "ws": None,
    "gRPC": None,  # no debug mode in grpc-js, grpcio or grpc-go
    "FastAPI": "python/vulnerable/frameworks/fastapi_app.py",
    "Flask": "python/vulnerable/frameworks/flask_config.py",
    "Django": "python/vulnerable/project/settings/production.py",
    "Django REST framework": "python/vulnerable/project/settings/production.py",
    "Django Channels": "python/vulnerable/project/settings/production.py",
    "aiohttp": "python/vulnerable/frameworks/aiohttp_app.py",
    "Starlette": "python/vulnerable/frameworks/starlette_app.py",
    "Tornado": "python/vulnerable/frameworks/tornado_app.py",
    "Sanic": "python/vulnerable/frameworks/sanic_app.py",
    "Litestar": "python/vulnerable/frameworks/litestar_app.py",
    "Graphene": "python/vulnerable/project/settings/graphql.py",
    "Strawberry": "python/vulnerable/frameworks/strawberry_app.py",
    "Gin": "go/vulnerable/main.go",
    "Echo": "go/vulnerable/services/echo/main.go",
    "Chi": "go/vulnerable/services/chi/main.go",
    "Fiber": "go/vulnerable/services/fiber/main.go",
    "gorilla/mux": "go/vulnerable/services/mux/main.go",
    "gorilla/websocket": None,
    "gqlgen": None,  # the playground and introspection are choices of their own
    "Rails": "ruby/vulnerable/config/environments/production.rb",
    "Sinatra": "ruby/vulnerable/web/sinatra_app.rb",
    "Grape": "ruby/vulnerable/web/grape_api.rb",
    "Hanami": "ruby/vulnerable/web/hanami/config/app.rb",
    "Roda": "ruby/vulnerable/web/roda_app.rb",
}


def catalog_frameworks() -> set[str]:
    """The framework names of the stack catalog, wherever the stack package keeps them."""
    modules: list[ModuleType] = [importlib.import_module("backend_agent.analysis.stack")]
    for info in pkgutil.walk_packages(getattr(modules[0], "__path__", []), "stack."):
        modules.append(importlib.import_module(f"backend_agent.analysis.{info.name}"))
    names = set()
    for module in modules:
        for table in vars(module).values():
            if isinstance(table, dict):
                names |= {
                    v[1] for v in table.values()
                    if isinstance(v, tuple) and len(v) == 2 and v[0] == "frameworks"
                }  # fmt: skip
    return names


def test_debug_mode_covers_every_framework_of_the_stack_catalog() -> None:
    frameworks = catalog_frameworks()
    assert len(frameworks) > 20
    assert frameworks <= set(DEBUG_SWITCHES), frameworks - set(DEBUG_SWITCHES)
    for framework, fixture in DEBUG_SWITCHES.items():
        if fixture is None:
            continue
        root, _, relative = fixture.partition("/vulnerable/")
        plants = planted(FIXTURES / root / "vulnerable")
        assert any(r == "debug-mode" and f == relative for r, f, _ in plants), framework
        assert (FIXTURES / root / "clean" / relative).exists(), framework


# --- public-by-design endpoints ---------------------------------------------------------

_PHRASES = [
    ("sign", "in"), ("sign", "up"), ("log", "in"), ("forgot", "password"),
    ("reset", "password"), ("password", "reset"), ("refresh", "token"), ("access", "token"),
]  # fmt: skip


def _spell(words: tuple[str, str], style: str) -> str:
    first, second = words
    if style == "camel":
        return first + second.title()
    if style == "pascal":
        return first.title() + second.title()
    return first + style + second


def _endpoint(method: str, path: str, handler: str = "handler") -> Endpoint:
    return Endpoint("rest", method, path, "none", "express", handler, "src/app.js", 1)


@given(
    words=st.sampled_from(_PHRASES),
    style=st.sampled_from(["", "-", "_", ".", "camel", "pascal"]),
    prefix=st.sampled_from(["", "/api", "/api/v2/auth", "/users"]),
)
def test_credential_routes_are_recognised_with_any_separator(
    words: tuple[str, str], style: str, prefix: str
) -> None:
    endpoint = _endpoint("POST", f"{prefix}/{_spell(words, style)}")
    assert obtains_credentials(endpoint)
    assert public_by_design(endpoint)


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("POST", "/api/password/reset", True),
        ("PUT", "/password_resets/{token}", True),
        ("POST", "/auth/token/refresh", True),
        ("POST", "/users/password", True),  # Devise: send reset instructions
        ("DELETE", "/session", True),
        ("POST", "/logout", True),
        ("POST", "/webhooks/stripe", True),
        ("PATCH", "/sessions/{id}", False),
        ("DELETE", "/tokens/{id}", False),
        ("POST", "/cache/reset", False),
        ("POST", "/orders", False),
        ("PUT", "/users/{id}/password", False),  # changing a password needs the old session
    ],
)
def test_public_routes_depend_on_route_and_verb(method: str, path: str, public: bool) -> None:
    assert public_by_design(_endpoint(method, path)) is public


def test_a_generic_handler_name_does_not_hide_a_login_route() -> None:
    endpoint = _endpoint("POST", "/api/v1/sign_in", handler="create")
    assert obtains_credentials(endpoint)


# --- fewer false findings -------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Project:
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    return Project(root)


def rules(files: dict[str, str], tmp_path: Path) -> set[tuple[str, str]]:
    return {(f.rule, f.file) for f in analyze_security(write(tmp_path, files))}


@pytest.mark.parametrize(
    "name", ["Gruntfile.js", "gulpfile.js", "webpack.config.js", "lib/tasks/db.rake", "Rakefile",
             "scripts/seed.py", "tasks.py", "tools/gen.go"],
)  # fmt: skip
def test_build_and_task_scripts_get_no_request_data_findings(name: str, tmp_path: Path) -> None:
    sources = {
        ".js": "const { exec } = require('child_process');\nexec('mongod --dbpath ' + dir);\n",
        ".py": "import os\n\ndef seed(path):\n    os.system('psql -f ' + path)\n",
        ".go": 'package main\n\nfunc main() { exec.Command("sh", "-c", "go run "+arg) }\n',
        "": "task :dump do\n  system(\"pg_dump #{ENV['DB']}\")\nend\n",
    }
    suffix = Path(name).suffix
    source = sources.get(suffix, sources[""])
    assert rules({name: source}, tmp_path) == set()
    application = f"app/server{suffix if suffix in ('.js', '.py', '.go') else '.rb'}"
    assert rules({application: source}, tmp_path) == {("command-injection", application)}


def test_orm_queries_are_not_nosql_injection(tmp_path: Path) -> None:
    """A Sequelize ``{where: …}`` filter is SQL; without a document database, nothing is."""
    route = (
        "router.post('/cart', async (req, res) => {\n"
        "  await Cart.findOne({ where: { id: req.body.id } });\n"
        "  await db.users.findOne({ name: req.body.name });\n"
        "});\n"
    )
    assert rules({"routes.js": route}, tmp_path) == set()
    found = rules({"routes.js": "const mongoose = require('mongoose');\n" + route}, tmp_path)
    assert found == {("nosql-injection.operator", "routes.js")}


def test_nosql_rules_need_a_document_database_in_python_and_go(tmp_path: Path) -> None:
    python = "@app.post('/login')\ndef login():\n    return db.users.find_one(request.json)\n"
    go = (
        "package api\n\nfunc Find(c *gin.Context) {\n\tvar filter bson.M\n"
        "\tc.ShouldBindJSON(&filter)\n\tusers.Find(c, filter)\n}\n"
    )
    assert rules({"app.py": python, "api.go": go}, tmp_path) == set()
    driver = 'package api\n\nimport "go.mongodb.org/mongo-driver/bson"\n'
    found = rules(
        {"app.py": "import pymongo\n" + python, "api.go": go.replace("package api\n", driver)},
        tmp_path,
    )
    assert found == {("nosql-injection.operator", "app.py"), ("nosql-injection.operator", "api.go")}


def test_reference_files_report_only_real_credentials(tmp_path: Path) -> None:
    """Served files, seed data and development configuration hold demo values, not secrets."""
    widget = "const apiKey = 'k3y-for-widgets';\nconst aws = 'AKIAIOSFODNN7EXAMPLE';\n"
    files = {
        "public/js/widget.js": widget,
        "static/app.js": "eval(req.query.x);\n",
        "db/seeds.rb": 'User.create!(email: "a@b.c", password: "s3cret-demo-1")\n',
        "config/env/development.js": "module.exports = { zapApiKey: 'v9dn0balpqas1pcc281tn5o' };\n",
    }
    assert rules(files, tmp_path) == {("hardcoded-secret.token-format", "public/js/widget.js")}


def test_demo_records_and_password_hashes_are_not_secrets(tmp_path: Path) -> None:
    seeds = (
        "const USERS = [{ userName: 'admin', password: 'Admin_123' }];\n"
        "const admin = new User({ username: 'root', password: 'letmein-42' });\n"
        "const stored = { password: '5f4dcc3b5aa765d61d8327deb882cf99' };\n"
        "const db = createConnection({ username: 'app', password: 'Pr0d-pa55word' });\n"
        "const apiKey = '0123456789abcdef0123456789abcdef';\n"
    )
    python = (
        "admin = User(username='admin', password='s3cret-admin')\nDB_PASSWORD = 'Pr0d-pa55word'\n"
    )
    found = {
        (f.rule, f.line) for f in analyze_security(write(tmp_path, {"a.js": seeds, "b.py": python}))
    }
    assert found == {("hardcoded-secret", 4), ("hardcoded-secret", 5), ("hardcoded-secret", 2)}


LOOKUPS = (
    "const mongoose = require('mongoose');\n"
    "router.get('/orders', async (req, res) => {\n"
    "  const user = sessions.get(req.headers.authorization);\n"
    "  const claims = jwt.verify(req.cookies.token, KEY, { algorithms: ['HS256'] });\n"
    "  await Order.find({ owner: user.email, team: claims.team });\n"
    "  await Order.find({ owner: req.body.owner });\n"
    "});\n"
)
COOKIE_BY_HAND = (
    "const express = require('express');\nconst helmet = require('helmet');\n"
    "const rateLimit = require('express-rate-limit');\n"
    "const app = express();\n"
    "app.post('/login', (req, res) => {\n"
    "  res.setHeader('Set-Cookie', `auth=${issue(req.body)}; HttpOnly`);\n"
    "});\n"
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # what a server-side store or a verified token holds is not request data
        (LOOKUPS, {("nosql-injection.operator", 6)}),
        # a session cookie set by hand needs CSRF protection like a session middleware's
        (COOKIE_BY_HAND, {("missing-csrf", 4)}),
    ],
    ids=["lookups-and-verified-claims", "cookie-set-by-hand"],
)
def test_single_file_scenarios(source: str, expected: set[tuple[str, int]], tmp_path: Path) -> None:
    found = {(f.rule, f.line) for f in analyze_security(write(tmp_path, {"app.js": source}))}
    assert found == expected


def test_committed_key_files_are_reported(tmp_path: Path) -> None:
    body = "MIIEowIBAAKCAQEAx4ZmjUqMmhI3mW9sJvtBhZ2bM2fG0oHqv1n6W8b8mXo9\n"
    files = {
        "config/master.key": "3f0c8a7e5b1d4c2a9e6f8b7d5c4a3b2e\n",
        "certs/server.key": "-----BEGIN RSA PRIVATE KEY-----\n" + body,
        "certs/server.pem": "-----BEGIN CERTIFICATE-----\n" + body,
    }
    assert rules(files, tmp_path) == {
        ("weak-secret", "config/master.key"),
        ("hardcoded-secret.token-format", "certs/server.key"),
    }


def test_rails_routes_are_judged_by_their_controllers(tmp_path: Path) -> None:
    """``resources`` routes to actions a controller does not define do not exist; the create
    action behind a sign-up page is the sign-up itself."""
    files = {
        "config/application.rb": "module Shop\n  class Application < Rails::Application\n"
        "    config.load_defaults 7.1\n  end\nend\n",
        "config/routes.rb": 'Rails.application.routes.draw do\n  get "signup" => "users#new"\n'
        "  resources :users, only: [:new, :create]\n  resources :reports\nend\n",
        "app/controllers/users_controller.rb": "class UsersController < ApplicationController\n"
        "  def new; end\n\n  def create; end\nend\n",
        "app/controllers/reports_controller.rb": "class ReportsController < ApplicationController\n"
        "  def index; end\nend\n",
    }
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    project = Project(tmp_path)
    found = {
        (f.rule, f.message.split(" (")[0])
        for f in analyze_security(project, build_inventory(project))
    }
    assert (
        "missing-rate-limit.auth-endpoint",
        "POST /users accepts credentials with no rate limit",
    ) in found
    assert not any(rule == "missing-auth" for rule, _ in found), found
