"""The Go extractor on fixture apps (Gin groups across packages, Chi mounts, net/http,
gorilla/websocket) and on small Echo, Fiber and gorilla/mux programs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.project import Project

FIXTURES = Path(__file__).parents[2] / "fixtures" / "endpoints"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("framework", ["gin", "chi", "echo"])
def test_inventory_matches_expected(framework: str) -> None:
    expected = json.loads((FIXTURES / framework / "expected.json").read_text())
    assert build_inventory(Project(FIXTURES / framework)).as_dict() == expected


def test_gin_auth_follows_middleware_registration_order() -> None:
    inventory = build_inventory(Project(FIXTURES / "gin"))
    rows = {(e.method, e.path): e.auth for e in inventory.endpoints}
    assert rows[("POST", "/api/users/login")] == "none"  # group created before any Use
    assert rows[("GET", "/api/articles/{slug}")] == "optional"  # AuthMiddleware(false)
    assert rows[("DELETE", "/api/articles/{slug}")] == "required"  # AuthMiddleware(true)


def program(tmp_path: Path, source: str) -> set[tuple[str, str, str, str]]:
    (tmp_path / "main.go").write_text(source)
    inventory = build_inventory(Project(tmp_path))
    return {(e.kind, e.method, e.path, e.auth) for e in inventory.endpoints}


def test_echo_group_middleware_and_handler_first_arguments(tmp_path: Path) -> None:
    found = program(
        tmp_path,
        """package main
import "github.com/labstack/echo/v4"
import "github.com/labstack/echo/v4/middleware"
func main() {
	e := echo.New()
	jwt := middleware.JWT([]byte("k"))
	api := e.Group("/api")
	user := api.Group("/user", jwt)
	user.GET("", current)
	api.POST("/users/login", login)
	api.DELETE("/items/:id", remove, jwt)
}
""",
    )
    assert found == {
        ("rest", "GET", "/api/user", "required"),
        ("rest", "POST", "/api/users/login", "none"),
        ("rest", "DELETE", "/api/items/{id}", "required"),
    }


def test_fiber_and_gorilla_mux(tmp_path: Path) -> None:
    found = program(
        tmp_path,
        """package main
import "github.com/gofiber/fiber/v2"
import "github.com/gorilla/mux"
func fiberApp() {
	app := fiber.New()
	v1 := app.Group("/v1", AuthRequired())
	v1.Get("/orders/:id", order)
}
func muxApp() {
	r := mux.NewRouter()
	api := r.PathPrefix("/api").Subrouter()
	api.HandleFunc("/books/{id}", book).Methods("GET", "PUT")
}
""",
    )
    assert found == {
        ("rest", "GET", "/v1/orders/{id}", "required"),
        ("rest", "GET", "/api/books/{id}", "none"),
        ("rest", "PUT", "/api/books/{id}", "none"),
    }


def test_group_from_an_unknown_caller_is_unresolved(tmp_path: Path) -> None:
    (tmp_path / "routes.go").write_text("""package routes
import "github.com/gin-gonic/gin"
func Register(r *gin.RouterGroup) {
	r.GET("/things", list)
}
""")
    inventory = build_inventory(Project(tmp_path))
    assert inventory.endpoints == []
    assert [(u.file, u.line, u.fragment) for u in inventory.unresolved] == [
        ("routes.go", 4, "{?}/things")
    ]


def test_jwt_skipper_is_evaluated_per_route(tmp_path: Path) -> None:
    found = program(
        tmp_path,
        """package main
import "github.com/labstack/echo/v4"
import "github.com/labstack/echo/v4/middleware"
func (h *Handler) Register(e *echo.Echo) {
	v1 := e.Group("/api")
	articles := v1.Group("/articles", middleware.JWTWithConfig(middleware.JWTConfig{
		Skipper: func(c echo.Context) bool {
			if c.Request().Method == "GET" && c.Path() != "/api/articles/feed" {
				return true
			}
			return false
		},
	}))
	articles.GET("", h.Articles)
	articles.GET("/feed", h.Feed)
	articles.POST("", h.Create)
	other := v1.Group("/other", middleware.JWTWithConfig(middleware.JWTConfig{
		Skipper: func(c echo.Context) bool { return isPublic(c) },
	}))
	other.GET("", h.Other)
}
""",
    )
    assert found == {
        ("rest", "GET", "/api/articles", "none"),
        ("rest", "GET", "/api/articles/feed", "required"),
        ("rest", "POST", "/api/articles", "required"),
        ("rest", "GET", "/api/other", "unknown"),
    }


def test_go_modules_in_a_monorepo_resolve_through_go_mod(tmp_path: Path) -> None:
    """Two services with a package named ``router`` each: import paths map through go.mod."""
    shutil.copytree(FIXTURES / "echo", tmp_path / "services" / "conduit")
    other = tmp_path / "services" / "other"
    (other / "router").mkdir(parents=True)
    (other / "go.mod").write_text("module example.com/other\n\ngo 1.22\n")
    (other / "router" / "router.go").write_text(
        'package router\nimport "github.com/labstack/echo/v4"\n'
        'func New() *echo.Echo {\n\te := echo.New()\n\te.GET("/other", nil)\n\treturn e\n}\n'
    )
    expected = json.loads((FIXTURES / "echo" / "expected.json").read_text())["endpoints"]
    found = build_inventory(Project(tmp_path)).endpoints
    conduit = [(e.method, e.path, e.auth) for e in found if e.file.startswith("services/conduit")]
    assert conduit == [(e["method"], e["path"], e["auth"]) for e in expected]
    assert ("GET", "/other") in {(e.method, e.path) for e in found}


def test_echo_root_middleware_applies_to_routes_registered_before_it(tmp_path: Path) -> None:
    found = program(
        tmp_path,
        """package main
import "github.com/labstack/echo/v4"
import "github.com/labstack/echo/v4/middleware"
func main() {
	e := echo.New()
	e.GET("/early", early)
	api := e.Group("/api")
	api.GET("/items", items)
	e.Use(middleware.KeyAuth(validate))
}
""",
    )
    assert found == {
        ("rest", "GET", "/early", "required"),
        ("rest", "GET", "/api/items", "required"),
    }
