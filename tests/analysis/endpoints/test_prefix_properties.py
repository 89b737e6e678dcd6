"""Property: however prefixes are split across routers, files and packages, the inventory's
full path is their concatenation (Python include_router chains, Go groups passed along)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.project import Project


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


segment = st.from_regex(r"[a-z][a-z0-9_-]{0,7}", fullmatch=True)
prefixes = st.lists(st.lists(segment, max_size=2), min_size=1, max_size=4)


def joined(parts: list[list[str]], leaf: list[str]) -> str:
    return "/" + "/".join([s for group in parts for s in group] + leaf)


@settings(max_examples=25, deadline=None)
@given(prefixes, st.lists(segment, min_size=1, max_size=3), st.sampled_from(["get", "delete"]))
def test_fastapi_routers_included_across_modules(
    parts: list[list[str]], leaf: list[str], verb: str
) -> None:
    """r0 (the app) includes r1's router with prefix parts[0], r1 includes r2's with parts[1],
    and so on; the last module declares the route."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for index, group in enumerate(parts):
            prefix = "/" + "/".join(group) if group else ""
            maker = "FastAPI()" if index == 0 else "APIRouter()"
            (root / f"r{index}.py").write_text(
                "from fastapi import APIRouter, FastAPI\n"
                f"from r{index + 1} import router as child\n"
                f"router = {maker}\n"
                f"router.include_router(child, prefix={prefix!r})\n"
            )
        (root / f"r{len(parts)}.py").write_text(
            f"from fastapi import APIRouter\nrouter = APIRouter()\n\n"
            f"@router.{verb}('/{'/'.join(leaf)}')\ndef leaf():\n    pass\n"
        )
        found = [(e.method, e.path) for e in build_inventory(Project(root)).endpoints]
        assert found == [(verb.upper(), joined(parts, leaf))]


@settings(max_examples=25, deadline=None)
@given(prefixes, st.lists(segment, min_size=1, max_size=3))
def test_gin_groups_passed_into_other_packages(parts: list[list[str]], leaf: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        count = len(parts)
        for index, group in enumerate(parts):
            package = root / f"p{index}"
            package.mkdir()
            path = "/" + "/".join(group) if group else ""
            if index + 1 < count:
                body = f'\tp{index + 1}.Register(g.Group("{path}"))'
                imports = (
                    f'import (\n\t"github.com/gin-gonic/gin"\n\t"example.com/x/p{index + 1}"\n)'
                )
            else:
                body = f'\tg.Group("{path}").GET("/{"/".join(leaf)}", handle)'
                imports = 'import "github.com/gin-gonic/gin"'
            source = (
                f"package p{index}\n{imports}\nfunc Register(g *gin.RouterGroup) {{\n{body}\n}}\n"
            )
            (package / "r.go").write_text(source)
        (root / "main.go").write_text(
            'package main\nimport (\n\t"github.com/gin-gonic/gin"\n\t"example.com/x/p0"\n)\n'
            'func main() {\n\tr := gin.Default()\n\tp0.Register(r.Group(""))\n}\n'
        )
        found = [(e.method, e.path) for e in build_inventory(Project(root)).endpoints]
        assert found == [("GET", joined(parts, leaf))]
