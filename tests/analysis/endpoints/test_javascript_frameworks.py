"""The JavaScript/TypeScript extractor over one small app per framework, each with its hard case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.analysis.endpoints.javascript import extractor
from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.project import Project

FIXTURES = Path(__file__).parents[2] / "fixtures" / "endpoints"


def inventory(root: Path) -> Inventory:
    project = Project(root)
    facts = {
        f: extractor.scan(f, project.read_bytes(f)) for f in project.files() if extractor.wants(f)
    }
    return extractor.resolve(facts, project)


def rows(found: Inventory) -> list[list[str]]:
    return sorted([e.kind, e.method, e.path, e.auth, e.framework, e.file] for e in found.endpoints)


@pytest.mark.parametrize(
    "app", ["express", "express-classes", "nestjs", "koa", "fastify", "node-realtime"]
)
def test_fixture_app_matches_expected_inventory(app: str) -> None:
    expected = json.loads((FIXTURES / app / "expected.json").read_text())
    found = inventory(FIXTURES / app)
    assert rows(found) == expected["endpoints"]
    assert sorted([u.file, u.fragment] for u in found.unresolved) == expected["unresolved"]


def test_express_router_mounted_from_other_files_gets_full_prefix() -> None:
    paths = {(e.method, e.path): e.auth for e in inventory(FIXTURES / "express").endpoints}
    assert paths[("PUT", "/api/v1/books/{bookId}")] == "required"
    assert paths[("GET", "/api/v1/books/{bookId}")] == "optional"
    # router.use(requireUser) protects the routes registered after it
    assert paths[("GET", "/api/v1/shelves")] == "required"
    assert paths[("GET", "/health")] == "none"


def test_nest_global_prefix_and_guards() -> None:
    paths = {(e.method, e.path): e.auth for e in inventory(FIXTURES / "nestjs").endpoints}
    assert paths[("GET", "/api/articles")] == "none"  # @Public() under a class guard
    assert paths[("POST", "/api/articles")] == "required"
    assert paths[("GET", "/api/user")] == "required"  # consumer.apply(AuthMiddleware).forRoutes
    assert paths[("POST", "/api/users/login")] == "none"


def test_unmounted_router_is_unresolved_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "orphan.js").write_text(
        "const router = require('express').Router();\n"
        "router.get('/items/:id', (req, res) => res.end());\n"
        "module.exports = router;\n"
    )
    found = inventory(tmp_path)
    assert found.endpoints == []
    assert [u.fragment for u in found.unresolved] == ["{?}/items/{id}"]


def test_prefix_from_function_argument_resolves_through_call_site(tmp_path: Path) -> None:
    (tmp_path / "server.js").write_text(
        "const express = require('express');\n"
        "const mount = require('./mount');\n"
        "const app = express();\n"
        "mount(app, '/v2');\n"
    )
    (tmp_path / "mount.js").write_text(
        "const { Router } = require('express');\n"
        "module.exports = function mount(app, base) {\n"
        "  const r = Router();\n"
        "  r.get('/things', (req, res) => res.end());\n"
        "  app.use(base, r);\n"
        "};\n"
    )
    assert [(e.method, e.path) for e in inventory(tmp_path).endpoints] == [("GET", "/v2/things")]


def test_client_calls_and_tests_are_not_endpoints(tmp_path: Path) -> None:
    (tmp_path / "client.js").write_text(
        "import axios from 'axios';\nconst api = axios.create();\n"
        "api.get('/articles', { params: {} });\nconst cache = new Map();\ncache.get('k', 1);\n"
    )
    (tmp_path / "app.test.js").write_text(
        "const app = require('express')();\napp.get('/only-in-tests', (q, s) => s.end());\n"
    )
    found = inventory(tmp_path)
    assert found.endpoints == [] and found.unresolved == []


def test_token_library_that_lets_anonymous_requests_through_is_optional(tmp_path: Path) -> None:
    (tmp_path / "jwt.ts").write_text(
        "const koaJwt = require('koa-jwt');\n"
        "export const jwt = koaJwt({ secret: 's', passthrough: true });\n"
    )
    (tmp_path / "app.ts").write_text(
        "import * as Koa from 'koa';\nimport * as Router from 'koa-router';\n"
        "import { jwt } from './jwt';\n"
        "const requireUser = (ctx, next) => next();\n"
        "const app = new Koa();\nconst api = new Router();\n"
        "api.get('/feed', requireUser, (ctx) => {});\napi.get('/tags', (ctx) => {});\n"
        "app.use(jwt);\napp.use(api.routes());\n"
    )
    auth = {e.path: e.auth for e in inventory(tmp_path).endpoints}
    assert auth == {"/feed": "required", "/tags": "optional"}


def test_chained_router_calls_keep_their_router(tmp_path: Path) -> None:
    (tmp_path / "tags.ts").write_text(
        "import { Router } from 'express';\nconst router = Router();\n"
        "router.get('/tags', (req, res) => res.json([]));\nexport default router;\n"
    )
    (tmp_path / "routes.ts").write_text(
        "import { Router } from 'express';\nimport tags from './tags';\n"
        "const api = Router().use(tags);\nexport default Router().use('/api', api);\n"
    )
    (tmp_path / "main.ts").write_text(
        "import express from 'express';\nimport routes from './routes';\n"
        "const app = express();\napp.use(routes);\n"
    )
    assert [(e.method, e.path) for e in inventory(tmp_path).endpoints] == [("GET", "/api/tags")]


def test_file_routes_sockets_and_apollo_operations() -> None:
    found = {(e.kind, e.method, e.path): e for e in inventory(FIXTURES / "node-realtime").endpoints}
    # pages/api: the methods the handler compares req.method with
    assert {m for k, m, p in found if p == "/api/users/{id}"} == {"GET", "DELETE"}
    assert ("rest", "ANY", "/api/health") in found  # no method check: any method
    assert ("rest", "POST", "/cart") in found  # route groups are not path segments
    assert ("rest", "DELETE", "/api/todos/{id}") in found  # Nitro [id].delete.ts
    assert ("websocket", "WS", "/admin#kick") in found  # socket.io namespace + event
    assert ("websocket", "WS", "/live") in found  # ws WebSocketServer path
    assert not any(p.endswith("#disconnect") for _, _, p in found)
    assert found[("graphql", "MUTATION", "addBook")].auth == "required"  # @auth directive
    assert found[("graphql", "QUERY", "books")].auth == "unknown"


def test_regex_route_is_unresolved(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text(
        "const app = require('express')();\n"
        "app.get(/^\\/files\\/(.*)$/, (req, res) => res.end());\n"
    )
    found = inventory(tmp_path)
    assert found.endpoints == []
    assert [(u.line, u.reason) for u in found.unresolved] == [
        (2, "route path is not a literal string")
    ]


def test_jwt_unless_exempts_listed_paths_and_methods(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text(
        "const express = require('express');\nconst { expressjwt: jwt } = require('express-jwt');\n"
        "const app = express();\n"
        "app.use(jwt({ secret: 's', algorithms: ['HS256'] }).unless({\n"
        "  path: ['/api/users/login', { url: /^\\/api\\/articles\\/[^/]+$/, methods: ['GET'] }],\n"
        "}));\n"
        "app.post('/api/users/login', (req, res) => res.end());\n"
        "app.get('/api/articles/:slug', (req, res) => res.end());\n"
        "app.put('/api/articles/:slug', (req, res) => res.end());\n"
    )
    auth = {(e.method, e.path): e.auth for e in inventory(tmp_path).endpoints}
    assert auth == {
        ("POST", "/api/users/login"): "none",
        ("GET", "/api/articles/{slug}"): "none",
        ("PUT", "/api/articles/{slug}"): "required",
    }


SEGMENTS = st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), min_size=1, max_size=4)


@settings(max_examples=30, deadline=None)
@given(prefixes=SEGMENTS, leaf=st.from_regex(r"[a-z]{1,6}", fullmatch=True))
def test_routers_chained_across_files_get_every_prefix(
    tmp_path_factory: pytest.TempPathFactory, prefixes: list[str], leaf: str
) -> None:
    root = tmp_path_factory.mktemp("express")
    depth = len(prefixes)
    (root / "app.js").write_text(
        f"const app = require('express')();\napp.use('/{prefixes[0]}', require('./r0'));\n"
    )
    for level in range(depth):
        mount = (
            f"router.use('/{prefixes[level + 1]}', require('./r{level + 1}'));\n"
            if level + 1 < depth
            else f"router.get('/{leaf}/:id', (req, res) => res.end());\n"
        )
        (root / f"r{level}.js").write_text(
            "const router = require('express').Router();\n" + mount + "module.exports = router;\n"
        )
    found = [(e.method, e.path) for e in inventory(root).endpoints]
    assert found == [("GET", "/" + "/".join([prefixes[0], *prefixes[1:], leaf]) + "/{id}")]


def test_nest_uri_versioning_and_router_module_paths(tmp_path: Path) -> None:
    (tmp_path / "main.ts").write_text(
        "import { NestFactory } from '@nestjs/core';\n"
        "import { VersioningType } from '@nestjs/common';\n"
        "async function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n"
        "  app.setGlobalPrefix('api');\n"
        "  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });\n}\n"
    )
    (tmp_path / "admin.module.ts").write_text(
        "import { Module } from '@nestjs/common';\nimport { RouterModule } from '@nestjs/core';\n"
        "import { UsersController } from './users.controller';\n"
        "@Module({ controllers: [UsersController] })\nexport class AdminModule {}\n"
        "@Module({ imports: [AdminModule, RouterModule.register([{ path: 'admin', "
        "module: AdminModule }])] })\nexport class AppModule {}\n"
    )
    (tmp_path / "users.controller.ts").write_text(
        "import { Controller, Get, Version, VERSION_NEUTRAL } from '@nestjs/common';\n"
        "@Controller('users')\nexport class UsersController {\n"
        "  @Get()\n  list() {}\n\n"
        "  @Version(['2', VERSION_NEUTRAL])\n  @Get(':id')\n  show() {}\n}\n"
    )
    found = sorted((e.method, e.path) for e in inventory(tmp_path).endpoints)
    assert found == [
        ("GET", "/api/admin/users/{id}"),
        ("GET", "/api/v1/admin/users"),
        ("GET", "/api/v2/admin/users/{id}"),
    ]


def test_nest_app_guard_provider_protects_all_but_public_routes(tmp_path: Path) -> None:
    (tmp_path / "app.module.ts").write_text(
        "import { Module } from '@nestjs/common';\nimport { APP_GUARD } from '@nestjs/core';\n"
        "import { JwtAuthGuard } from './jwt-auth.guard';\n"
        "import { CatsController } from './cats.controller';\n"
        "@Module({\n  controllers: [CatsController],\n"
        "  providers: [{ provide: APP_GUARD, useClass: JwtAuthGuard }],\n})\n"
        "export class AppModule {}\n"
    )
    (tmp_path / "cats.controller.ts").write_text(
        "import { Controller, Get, Post } from '@nestjs/common';\n"
        "import { Public } from './public.decorator';\n"
        "@Controller('cats')\nexport class CatsController {\n"
        "  @Public()\n  @Get()\n  list() {}\n\n  @Post()\n  create() {}\n}\n"
    )
    auth = {(e.method, e.path): e.auth for e in inventory(tmp_path).endpoints}
    assert auth == {("GET", "/cats"): "none", ("POST", "/cats"): "required"}


def test_chained_module_exports_assignment_exports_the_router(tmp_path: Path) -> None:
    (tmp_path / "users.js").write_text(
        "const router = require('express').Router();\n"
        "router.get('/users', (req, res) => res.end());\n"
        "exports = module.exports = router;\n"
    )
    (tmp_path / "app.js").write_text(
        "const app = require('express')();\napp.use('/v1', require('./users'));\n"
    )
    assert [(e.method, e.path) for e in inventory(tmp_path).endpoints] == [("GET", "/v1/users")]


def test_all_with_wildcard_is_middleware_not_a_route(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text(
        "const app = require('express')();\nconst requireAuth = (req, res, next) => next();\n"
        "app.get('/health', (req, res) => res.end());\n"
        "app.all('/admin/*', requireAuth);\n"
        "app.get('/admin/stats', (req, res) => res.end());\n"
    )
    auth = {(e.method, e.path): e.auth for e in inventory(tmp_path).endpoints}
    assert auth == {("GET", "/health"): "none", ("GET", "/admin/stats"): "required"}


def test_nest_code_first_graphql_resolver(tmp_path: Path) -> None:
    (tmp_path / "cats.resolver.ts").write_text(
        "import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';\n"
        "import { UseGuards } from '@nestjs/common';\n"
        "import { GqlAuthGuard } from './gql-auth.guard';\n"
        "@Resolver(() => Cat)\nexport class CatsResolver {\n"
        "  @Query(() => [Cat], { name: 'cats' })\n  findAll(@Args('limit') limit: number) {}\n\n"
        "  @UseGuards(GqlAuthGuard)\n  @Mutation(() => Cat)\n  createCat() {}\n}\n"
    )
    found = {(e.kind, e.method, e.path): e.auth for e in inventory(tmp_path).endpoints}
    assert found == {
        ("graphql", "QUERY", "cats"): "none",
        ("graphql", "MUTATION", "createCat"): "required",
    }


def test_tsconfig_path_aliases_resolve_imports(tmp_path: Path) -> None:
    (tmp_path / "tsconfig.json").write_text(
        '{\n  // aliases\n  "compilerOptions": {\n    "baseUrl": "./src",\n'
        '    "paths": { "@routes/*": ["http/routes/*"], },\n  },\n}\n'
    )
    (tmp_path / "src" / "http" / "routes").mkdir(parents=True)
    (tmp_path / "src" / "http" / "routes" / "users.ts").write_text(
        "import { Router } from 'express';\nconst r = Router();\n"
        "r.get('/users', (req, res) => res.end());\nexport default r;\n"
    )
    (tmp_path / "src" / "constants.ts").write_text("export const API = '/api/v3';\n")
    (tmp_path / "src" / "main.ts").write_text(
        "import express from 'express';\nimport users from '@routes/users';\n"
        "import { API } from 'constants';\nconst app = express();\napp.use(API, users);\n"
    )
    assert [(e.method, e.path) for e in inventory(tmp_path).endpoints] == [("GET", "/api/v3/users")]


def test_env_prefix_is_unresolved_with_what_is_known(tmp_path: Path) -> None:
    (tmp_path / "articles.js").write_text(
        "const Router = require('@koa/router');\nconst verifyAuth = require('./verifyAuth');\n"
        "const router = new Router({ prefix: `${process.env.ROUTER_PREFIX}/articles` });\n"
        "router.get('/feed', verifyAuth(), (ctx) => {});\nmodule.exports = router;\n"
    )
    (tmp_path / "tags.js").write_text(
        "const Router = require('@koa/router');\nconst verifyAuth = require('./verifyAuth');\n"
        "const router = new Router({ prefix: '/api/tags' });\n"
        "router.get('/', verifyAuth(false), (ctx) => {});\nmodule.exports = router;\n"
    )
    (tmp_path / "app.js").write_text(
        "const Koa = require('koa');\nconst app = new Koa();\n"
        "app.use(require('./articles').routes());\napp.use(require('./tags').routes());\n"
    )
    found = inventory(tmp_path)
    assert [(e.path, e.auth) for e in found.endpoints] == [("/api/tags", "optional")]
    assert [(u.fragment, u.reason) for u in found.unresolved] == [
        (
            "{?}/articles/feed",
            "router prefix `${process.env.ROUTER_PREFIX}/articles` is not a literal",
        )
    ]


def test_barrel_files_re_exporting_routers(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "pets.ts").write_text(
        "import { Router } from 'express';\nconst pets = Router();\n"
        "pets.get('/pets', (req, res) => res.end());\nexport default pets;\n"
    )
    (tmp_path / "routes" / "index.ts").write_text("export { default as pets } from './pets';\n")
    (tmp_path / "main.ts").write_text(
        "import express from 'express';\nimport { pets } from './routes';\n"
        "const app = express();\napp.use('/v1', pets);\n"
    )
    assert [(e.method, e.path) for e in inventory(tmp_path).endpoints] == [("GET", "/v1/pets")]


def test_router_passed_as_parameter_is_mounted_not_taken_for_a_prefix(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text(
        "const express = require('express');\nconst app = express();\n"
        "const api = express.Router();\napi.get('/ping', (req, res) => res.end());\n"
        "function attach(target, router, base) {\n  target.use(router);\n"
        "  target.use(base, router);\n}\nattach(app, api, '/v1');\n"
    )
    found = sorted((e.method, e.path) for e in inventory(tmp_path).endpoints)
    assert found == [("GET", "/ping"), ("GET", "/v1/ping")]
