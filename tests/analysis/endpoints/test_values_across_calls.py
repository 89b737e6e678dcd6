"""Values followed across one call boundary (plugin options, router parameters, struct fields,
module constants, directory loaders) and auth from guards, hooks and handler wrappers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.project import Project

FIXTURES = Path(__file__).parents[2] / "fixtures" / "endpoints"
APPS = ["fastify-plugin-prefix", "express-loader", "go-chi-server", "go-gin-handlers", "nitro-auth"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path / "cache"))


def inventory(root: Path) -> Inventory:
    return build_inventory(Project(root))


def auth_by_route(root: Path) -> dict[str, str]:
    return {f"{e.method} {e.path}": e.auth for e in inventory(root).endpoints}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("app", APPS)
def test_fixture_app_has_every_route_resolved_with_auth(app: str) -> None:
    expected = json.loads((FIXTURES / app / "expected.json").read_text())
    found = inventory(FIXTURES / app)
    rows = sorted([e.kind, e.method, e.path, e.auth, e.framework, e.file] for e in found.endpoints)
    assert rows == expected["endpoints"]
    assert found.unresolved == []
    assert all(e.auth != "unknown" for e in found.endpoints)


# ---- Fastify: plugin options, fastify-plugin, hooks switched by route config ---------------


def test_plugin_options_reach_the_routes_built_from_them(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "server.js": "const app = require('fastify')();\n"
            "const routes = require('./routes');\n"
            "const settings = { prefix: '/v2/' };\n"
            "app.register(routes, settings);\n",
            "routes.js": "const fp = require('fastify-plugin');\n"
            "module.exports = fp(async (app, options) => {\n"
            "  app.get(`${options.prefix}items`, async () => []);\n"
            "  app.get(options.prefix + 'items/:id', async () => ({}));\n"
            "});\n",
        },
    )
    # fastify-plugin removes encapsulation: fastify does not add the prefix a second time
    assert auth_by_route(tmp_path) == {"GET /v2/items": "none", "GET /v2/items/{id}": "none"}


def test_encapsulated_plugin_gets_the_prefix_and_its_hooks_stay_inside(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.js": "const app = require('fastify')();\n"
            "app.register(async (admin) => {\n"
            "  admin.addHook('onRequest', admin.authenticate);\n"
            "  admin.get('/stats', async () => ({}));\n"
            "}, { prefix: '/admin' });\n"
            "app.get('/status', async () => 'ok');\n",
        },
    )
    assert auth_by_route(tmp_path) == {"GET /admin/stats": "required", "GET /status": "none"}


def test_prefix_from_the_environment_without_a_default_is_reported_with_its_source(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "app.js": "const app = require('express')();\n"
            "const api = require('express').Router();\n"
            "api.get(`${process.env.API_BASE}/orders`, (req, res) => res.end());\n"
            "app.use(api);\n"
            "const v1 = require('express').Router();\n"
            "v1.get('/orders', (req, res) => res.end());\n"
            "app.use(process.env.V1_PREFIX || '/v1', v1);\n",
        },
    )
    found = inventory(tmp_path)
    assert [(e.method, e.path) for e in found.endpoints] == [("GET", "/v1/orders")]
    [unresolved] = found.unresolved
    assert "process.env.API_BASE" in unresolved.reason
    assert "environment variable" in unresolved.reason


def test_parameter_default_is_the_prefix_when_callers_leave_it_out(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "routes.js": "const { Router } = require('express');\n"
            "module.exports = function mount(app, prefix = '/api') {\n"
            "  const router = Router();\n"
            "  router.get('/books', (req, res) => res.json([]));\n"
            "  app.use(prefix, router);\n"
            "};\n",
            "app.js": "const app = require('express')();\n"
            "require('./routes')(app);\n"
            "require('./routes')(app, '/legacy');\n",
        },
    )
    assert auth_by_route(tmp_path) == {"GET /api/books": "none", "GET /legacy/books": "none"}


# ---- NestJS: guard classes, middleware classes, base controllers --------------------------


NEST_AUTH = {
    "src/auth/guards.ts": "import { AuthGuard } from '@nestjs/passport';\n"
    "export class LocalAuthGuard extends AuthGuard('local') {}\n"
    "export class JwtAuthGuard extends AuthGuard('jwt') {}\n"
    "export class GuestGuard extends AuthGuard('jwt') {\n"
    "  handleRequest(err, user) { return user; }\n"
    "}\n",
    "src/auth/base.controller.ts": "import { UseGuards } from '@nestjs/common';\n"
    "import { JwtAuthGuard } from './guards';\n"
    "@UseGuards(JwtAuthGuard)\nexport abstract class SecuredController {}\n",
    "src/users.controller.ts": "import { Controller, Get, Post, UseGuards, UseInterceptors }"
    " from '@nestjs/common';\n"
    "import { LocalAuthGuard, GuestGuard } from './auth/guards';\n"
    "import { SecuredController } from './auth/base.controller';\n"
    "@Controller('users')\nexport class UsersController {\n"
    "  @UseGuards(LocalAuthGuard) @Post('login') login() {}\n"
    "  @UseGuards(GuestGuard) @Get(':id') show() {}\n"
    "  @UseInterceptors(AuthInterceptor) @Get(':id/roles') roles() {}\n"
    "}\n"
    "@Controller('billing')\nexport class BillingController extends SecuredController {\n"
    "  @Get() invoices() {}\n"
    "}\n",
}


def test_nest_guards_are_read_from_their_classes(tmp_path: Path) -> None:
    assert auth_by_route(write(tmp_path, NEST_AUTH)) == {
        "POST /users/login": "none",  # passport's local strategy is the login itself
        "GET /users/{id}": "optional",  # handleRequest returns the user without throwing
        "GET /users/{id}/roles": "required",  # an auth interceptor
        "GET /billing": "required",  # guard inherited from the base controller
    }


def test_nest_auth_middleware_that_never_rejects_is_optional(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/auth.middleware.ts": "export class AuthMiddleware {\n"
            "  async use(req, res, next) {\n"
            "    if (req.headers.authorization) { req.user = decode(req.headers.authorization); }\n"
            "    next();\n  }\n}\n",
            "src/app.module.ts": "import { Module, RequestMethod } from '@nestjs/common';\n"
            "import { AuthMiddleware } from './auth.middleware';\n"
            "@Module({})\nexport class AppModule {\n"
            "  configure(consumer) {\n"
            "    consumer.apply(AuthMiddleware)\n"
            "      .forRoutes({ path: '*', method: RequestMethod.ALL });\n"
            "  }\n}\n",
            "src/tags.controller.ts": "import { Controller, Get } from '@nestjs/common';\n"
            "@Controller('tags')\nexport class TagsController { @Get() list() {} }\n",
        },
    )
    assert auth_by_route(tmp_path) == {"GET /tags": "optional"}


# ---- Go: routers in struct fields, as parameters, constants, wrappers ---------------------


GIN_STRUCT = """package main

import "github.com/gin-gonic/gin"

const prefix = "/api"

type App struct {
	engine *gin.Engine
}

func NewApp() *App {
	app := &App{engine: gin.New()}
	app.routes()
	return app
}

func (a *App) routes() {
	api := a.engine.Group(prefix)
	api.GET("/ping", ping)
	secured := api.Group("/me", RequireUser())
	secured.GET("", me)
}

func main() {
	NewApp().engine.Run()
}
"""


def test_go_router_stored_in_a_struct_field_and_a_package_constant(tmp_path: Path) -> None:
    write(tmp_path, {"main.go": GIN_STRUCT})
    assert auth_by_route(tmp_path) == {"GET /api/ping": "none", "GET /api/me": "required"}


def test_go_router_from_a_method_of_another_value_and_a_struct_literal(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "go.mod": "module example.com/svc\n",
            "main.go": 'package main\n\nimport (\n\t"net/http"\n\t"example.com/svc/api"\n)\n\n'
            "func main() {\n\tc := api.NewController()\n"
            '\tsrv := &http.Server{Addr: ":80", Handler: c.Routes()}\n'
            "\tsrv.ListenAndServe()\n}\n",
            "api/api.go": 'package api\n\nimport "github.com/labstack/echo/v4"\n\n'
            "type Controller struct{}\n\n"
            "func NewController() *Controller { return &Controller{} }\n\n"
            "func (c *Controller) Routes() *echo.Echo {\n\te := c.newEcho()\n"
            '\tv1 := e.Group("/v1")\n\tv1.GET("/items", c.list)\n\treturn e\n}\n\n'
            "func (c *Controller) newEcho() *echo.Echo { return echo.New() }\n",
        },
    )
    assert auth_by_route(tmp_path) == {"GET /v1/items": "none"}


def test_go_httprouter_with_handlers_wrapped_in_a_guard(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "routes.go": 'package main\n\nimport (\n\t"net/http"\n'
            '\t"github.com/julienschmidt/httprouter"\n)\n\n'
            "func (app *application) routes() http.Handler {\n"
            "\trouter := httprouter.New()\n"
            '\trouter.HandlerFunc(http.MethodGet, "/v1/movies", app.listMovies)\n'
            '\trouter.HandlerFunc(http.MethodPost, "/v1/movies", '
            "app.requireActivatedUser(app.createMovie))\n"
            "\treturn router\n}\n",
        },
    )
    assert auth_by_route(tmp_path) == {"GET /v1/movies": "none", "POST /v1/movies": "required"}


def test_go_auth_middleware_that_never_rejects_is_optional(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.go": 'package main\n\nimport "github.com/gin-gonic/gin"\n\n'
            "func main() {\n\tr := gin.New()\n\tr.Use(ReadToken())\n"
            '\tr.GET("/feed", feed)\n\tr.Run()\n}\n\n'
            "func ReadToken() gin.HandlerFunc {\n"
            "\treturn func(c *gin.Context) {\n"
            '\t\tif t := c.GetHeader("Authorization"); t != "" {\n'
            '\t\t\tc.Set("token", t)\n\t\t}\n\t\tc.Next()\n\t}\n}\n',
        },
    )
    assert auth_by_route(tmp_path) == {"GET /feed": "optional"}


def test_chi_router_mounted_on_itself_serves_both_paths(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.go": 'package main\n\nimport (\n\t"net/http"\n\t"github.com/go-chi/chi"\n)\n\n'
            "func main() {\n\tr := chi.NewRouter()\n"
            '\tr.Get("/tags", tags)\n\tr.Mount("/api", r)\n'
            '\thttp.ListenAndServe(":80", r)\n}\n',
        },
    )
    assert auth_by_route(tmp_path) == {"GET /tags": "none", "GET /api/tags": "none"}


# ---- Python: test suites are not the service ---------------------------------------------


def test_python_test_apps_are_not_endpoints(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n\n"
            '@app.get("/items")\ndef items():\n    return []\n',
            "tests/test_errors.py": "from fastapi import FastAPI\napp = FastAPI()\n\n"
            '@app.get("/wrong_path/{param}")\ndef wrong(param: int):\n    return param\n',
        },
    )
    assert auth_by_route(tmp_path) == {"GET /items": "none"}
