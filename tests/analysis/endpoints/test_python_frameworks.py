"""The Python extractor on one fixture app per framework family, against expected inventories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.project import Project

FIXTURES = Path(__file__).parents[2] / "fixtures" / "endpoints"


def inventory_of(name: str) -> dict[str, Any]:
    return build_inventory(Project(FIXTURES / name)).as_dict()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("framework", ["fastapi", "flask", "django"])
def test_inventory_matches_expected(framework: str) -> None:
    expected = json.loads((FIXTURES / framework / "expected.json").read_text())
    assert inventory_of(framework) == expected


def test_fastapi_settings_prefix_and_router_from_another_module() -> None:
    paths = {(e["method"], e["path"]): e for e in inventory_of("fastapi")["endpoints"]}
    assert paths[("POST", "/api/v1/items")]["auth"] == "required"  # Annotated[..., Depends(...)]
    assert paths[("GET", "/api/v1/items")]["auth"] == "optional"
    assert paths[("PUT", "/api/v1/items/{item_id}")]["auth"] == "required"  # through require_owner
    assert paths[("WS", "/api/v1/ws/notifications")]["kind"] == "websocket"
    assert paths[("GET", "/health")]["auth"] == "none"
    assert paths[("GET", "/api/v1/me")]["auth"] == "required"  # CurrentUser = Annotated[...]
    assert paths[("POST", "/api/v1/login/access-token")]["auth"] == "none"  # an auth *service*


def test_flask_registration_prefix_replaces_blueprint_prefix() -> None:
    paths = {(e["method"], e["path"]) for e in inventory_of("flask")["endpoints"]}
    assert ("DELETE", "/api/v2/orders/{order_id}") in paths
    assert not any(path.startswith("/ignored") for _, path in paths)


def test_drf_viewset_actions_and_default_permissions() -> None:
    rows = {(e["method"], e["path"]): e["auth"] for e in inventory_of("django")["endpoints"]}
    assert rows[("GET", "/api/v1/articles/{slug}")] == "optional"  # IsAuthenticatedOrReadOnly
    assert rows[("DELETE", "/api/v1/articles/{slug}")] == "required"
    assert rows[("POST", "/api/v1/articles/{slug}/favorite")] == "required"
    assert rows[("POST", "/api/v1/articles/{slug}/publish")] == "required"  # settings default
    assert ("PUT", "/api/v1/articles/{slug}") not in rows  # no update on this viewset


def test_unresolvable_prefix_is_reported_not_guessed(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(
        "import os\nfrom fastapi import FastAPI, APIRouter\n"
        "router = APIRouter()\n\n@router.get('/things')\ndef things():\n    return []\n\n"
        "app = FastAPI()\napp.include_router(router, prefix=os.environ['PREFIX'])\n"
    )
    inventory = build_inventory(Project(app))
    assert inventory.endpoints == []
    assert [(u.file, u.line, u.fragment) for u in inventory.unresolved] == [
        ("main.py", 5, "{?}/things")
    ]


def test_graphene_and_strawberry_operations(tmp_path: Path) -> None:
    (tmp_path / "schema.py").write_text(
        "import graphene\n\nclass Query(graphene.ObjectType):\n"
        "    all_users = graphene.List(graphene.String)\n\n"
        "class Mutation(graphene.ObjectType):\n    create_user = graphene.Field(graphene.String)\n"
    )
    (tmp_path / "sb.py").write_text(
        "import strawberry\n\n@strawberry.type\nclass Query:\n"
        "    @strawberry.field\n    def top_books(self) -> list[str]:\n        return []\n"
    )
    found = {(e.method, e.path, e.framework) for e in build_inventory(Project(tmp_path)).endpoints}
    assert found == {
        ("QUERY", "allUsers", "graphene"),
        ("MUTATION", "createUser", "graphene"),
        ("QUERY", "topBooks", "strawberry"),
    }


def test_aiohttp_and_starlette_routes(tmp_path: Path) -> None:
    (tmp_path / "aio.py").write_text(
        "from aiohttp import web\n\nroutes = web.RouteTableDef()\n\n@routes.get('/items/{id}')\n"
        "async def item(request):\n    pass\n\nasync def ping(request):\n    pass\n\n"
        "api = web.Application()\napi.add_routes(routes)\napi.router.add_post('/ping', ping)\n"
        "app = web.Application()\napp.add_subapp('/api/', api)\n"
    )
    (tmp_path / "star.py").write_text(
        "from starlette.applications import Starlette\n"
        "from starlette.routing import Mount, Route, WebSocketRoute\n\n"
        "async def home(request):\n    pass\n\nasync def feed(ws):\n    pass\n\n"
        "app = Starlette(routes=[Mount('/v2', routes=[\n"
        "    Route('/home', home, methods=['GET', 'POST'])]), WebSocketRoute('/feed', feed)])\n"
    )
    found = {(e.method, e.path, e.framework) for e in build_inventory(Project(tmp_path)).endpoints}
    assert found == {
        ("GET", "/api/items/{id}", "aiohttp"),
        ("POST", "/api/ping", "aiohttp"),
        ("GET", "/v2/home", "starlette"),
        ("POST", "/v2/home", "starlette"),
        ("WS", "/feed", "starlette"),
    }


def test_blueprints_reached_through_namespace_packages(tmp_path: Path) -> None:
    """``from shop import users`` then ``users.views.bp``, with no ``__init__.py`` anywhere."""
    (tmp_path / "shop" / "users").mkdir(parents=True)
    (tmp_path / "shop" / "users" / "views.py").write_text(
        "from flask import Blueprint\nbp = Blueprint('users', __name__)\n\n"
        "@bp.route('/<int:uid>', methods=['GET', 'DELETE'])\ndef user(uid):\n    pass\n"
    )
    (tmp_path / "shop" / "app.py").write_text(
        "from flask import Flask\nfrom shop import users\n\n"
        "def create_app():\n    app = Flask(__name__)\n"
        "    app.register_blueprint(users.views.bp, url_prefix='/users')\n    return app\n"
    )
    found = {(e.method, e.path) for e in build_inventory(Project(tmp_path)).endpoints}
    assert found == {("GET", "/users/{uid}"), ("DELETE", "/users/{uid}")}


def test_flask_restx_namespaces_and_resources(tmp_path: Path) -> None:
    (tmp_path / "api.py").write_text(
        "from flask import Flask\nfrom flask_restx import Api, Namespace, Resource\n"
        "from flask_jwt_extended import jwt_required\n\n"
        "app = Flask(__name__)\napi = Api(app, prefix='/api')\n"
        "ns = Namespace('todos', path='/todos')\napi.add_namespace(ns)\n\n"
        "@ns.route('/<int:todo_id>')\nclass Todo(Resource):\n"
        "    method_decorators = [jwt_required()]\n\n"
        "    def get(self, todo_id):\n        pass\n\n"
        "    def delete(self, todo_id):\n        pass\n"
    )
    found = {(e.method, e.path, e.auth) for e in build_inventory(Project(tmp_path)).endpoints}
    assert found == {
        ("GET", "/api/todos/{todo_id}", "required"),
        ("DELETE", "/api/todos/{todo_id}", "required"),
    }


def test_prefixes_from_constants_and_environment_defaults(tmp_path: Path) -> None:
    (tmp_path / "constants.py").write_text('VERSION = "v2"  # not parsed: nothing relevant\n')
    (tmp_path / "main.py").write_text(
        "import os\nfrom fastapi import APIRouter, FastAPI\nfrom constants import VERSION\n\n"
        "ROOT = os.getenv('API_ROOT', '/api')\nrouter = APIRouter(prefix=f'{ROOT}/{VERSION}')\n\n"
        "@router.get('/ping')\ndef ping():\n    pass\n\n"
        "app = FastAPI()\napp.include_router(router)\n"
    )
    found = [(e.method, e.path) for e in build_inventory(Project(tmp_path)).endpoints]
    assert found == [("GET", "/api/v2/ping")]


def test_two_services_with_the_same_package_names(tmp_path: Path) -> None:
    """``from app.routes import router`` resolves within each service's own source tree."""
    for service, prefix in (("billing", "/bills"), ("users", "/users")):
        (tmp_path / service / "app").mkdir(parents=True)
        (tmp_path / service / "app" / "routes.py").write_text(
            f"from fastapi import APIRouter\nrouter = APIRouter(prefix='{prefix}')\n\n"
            "@router.get('/{item_id}')\ndef read(item_id: int):\n    pass\n"
        )
        (tmp_path / service / "app" / "main.py").write_text(
            "from fastapi import FastAPI\nfrom app.routes import router\n\n"
            "app = FastAPI()\napp.include_router(router, prefix='/api')\n"
        )
    found = {(e.path, e.file) for e in build_inventory(Project(tmp_path)).endpoints}
    assert found == {
        ("/api/bills/{item_id}", "billing/app/routes.py"),
        ("/api/users/{item_id}", "users/app/routes.py"),
    }


def test_app_wide_guards(tmp_path: Path) -> None:
    """A guard hook makes a blueprint's or app's routes required; an auth middleware whose
    per-route effect cannot be read makes the app's other routes unknown, not none."""
    (tmp_path / "web.py").write_text(
        "from flask import Blueprint\nadmin = Blueprint('admin', __name__, url_prefix='/admin')\n\n"
        "@admin.before_request\ndef require_login():\n    pass\n\n"
        "@admin.get('/stats')\ndef stats():\n    pass\n"
    )
    (tmp_path / "shop.py").write_text(
        "from flask import Flask\nfrom guards import check_token\napp = Flask(__name__)\n"
        "app.before_request(check_token)\n\n@app.get('/cart')\ndef cart():\n    pass\n"
    )
    (tmp_path / "api.py").write_text(
        "from fastapi import Depends, FastAPI\n"
        "from auth import TokenAuthMiddleware, get_current_user\n"
        "app = FastAPI()\napp.add_middleware(TokenAuthMiddleware)\n\n"
        "@app.get('/open')\ndef open_():\n    pass\n\n"
        "@app.get('/me')\ndef me(user=Depends(get_current_user)):\n    pass\n"
    )
    found = {(e.path, e.auth) for e in build_inventory(Project(tmp_path)).endpoints}
    assert found == {
        ("/admin/stats", "required"),
        ("/cart", "required"),
        ("/open", "unknown"),
        ("/me", "required"),
    }
