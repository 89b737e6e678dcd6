"""The contract diff between a git revision and the working tree, by stable rule id."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backend_agent.analysis.endpoints.diff import diff_contracts, diff_inventories
from backend_agent.analysis.endpoints.model import Endpoint, Inventory
from backend_agent.analysis.project import Project

BASE_APP = """\
from fastapi import APIRouter, Depends, FastAPI
from deps import get_current_user

app = FastAPI()
router = APIRouter(prefix="/api")

@router.get("/articles/{slug}")
def read(slug: str): ...

@router.delete("/articles/{slug}")
def remove(slug: str, user=Depends(get_current_user)): ...

@router.get("/tags")
def tags(): ...

@router.post("/profiles")
def follow(): ...

@router.get("/users/{user_id}/posts")
def posts(user_id: int): ...

app.include_router(router)
"""

HEAD_APP = """\
from fastapi import APIRouter, Depends, FastAPI
from deps import get_current_user

app = FastAPI()
router = APIRouter(prefix="/api")

@router.get("/articles/{slug}")
def read(slug: str, user=Depends(get_current_user)): ...

@router.delete("/articles/{slug}")
def remove(slug: str): ...

@router.put("/profiles")
def follow(): ...

@router.get("/users/{uid}/posts")
def posts(uid: int): ...

@router.get("/comments")
def comments(): ...

app.include_router(router)
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path / "cache"))


def test_rest_changes_between_revision_and_working_tree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "main.py").write_text(BASE_APP)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    (root / "main.py").write_text(HEAD_APP)
    head = Project(root)
    changes = diff_contracts(head.at("HEAD"), head)
    found = sorted((c.rule, c.compatibility, c.message) for c in changes)
    assert found == [
        (
            "auth-added",
            "breaking",
            "rest GET /api/articles/{slug} now requires authentication (was none)",
        ),
        (
            "auth-removed",
            "non-breaking",
            "security risk: rest DELETE /api/articles/{slug} no longer requires authentication"
            " (now none)",
        ),
        ("endpoint-added", "non-breaking", "new rest GET /api/comments"),
        ("endpoint-removed", "breaking", "rest GET /api/tags removed"),
        ("method-changed", "breaking", "POST /api/profiles is now PUT"),
        (
            "path-param-renamed",
            "possibly-breaking",
            "GET /api/users/{user_id}/posts -> /api/users/{uid}/posts",
        ),
    ]


def test_path_parameter_added() -> None:
    def inventory(path: str) -> Inventory:
        return Inventory([Endpoint("rest", "GET", path, "none", "gin", "h", "a.go", 1)])

    changes = diff_inventories(inventory("/api/posts"), inventory("/api/{tenant}/posts"))
    assert [(c.rule, c.compatibility) for c in changes] == [("path-param-added", "breaking")]


def test_changed_graphql_schema_file_is_diffed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "schema.graphql").write_text("type Query { me: String, users: [String] }\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    (root / "schema.graphql").write_text("type Query { me: String }\n")
    head = Project(root)
    rules = [
        (c.rule, c.compatibility, c.kind)
        for c in diff_contracts(head.at("HEAD"), head)
        if c.file == "schema.graphql"
    ]
    assert any(compat == "breaking" and kind == "graphql" for _, compat, kind in rules)


def test_project_in_a_subdirectory_of_the_repository(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    service = root / "services" / "api"
    service.mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "other.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/x')\ndef x(): ...\n"
    )
    (service / "main.py").write_text(BASE_APP)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    (service / "main.py").write_text(
        BASE_APP.replace('@router.get("/tags")', '@router.get("/labels")')
    )
    head = Project(service)
    found = sorted((c.rule, c.file) for c in diff_contracts(head.at("HEAD"), head))
    assert found == [("endpoint-added", "main.py"), ("endpoint-removed", "main.py")]


def test_changed_proto_file_is_diffed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    proto = (
        'syntax = "proto3";\npackage shop;\nservice Orders {\n  rpc Get (Req) returns (Res);\n%s}\n'
    )
    (root / "orders.proto").write_text(proto % "  rpc Cancel (Req) returns (Res);\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    (root / "orders.proto").write_text(proto % "")
    head = Project(root)
    changes = [c for c in diff_contracts(head.at("HEAD"), head) if c.file == "orders.proto"]
    assert changes and all(c.kind == "grpc" for c in changes)
    assert any(c.compatibility == "breaking" and "Cancel" in c.message for c in changes)
    assert not any(c.rule == "endpoint-removed" for c in changes)  # said once, by the proto rule
