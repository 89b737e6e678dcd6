"""Endpoint inventory speed on a generated repository (Python and Go, N files each).

Prints MB/s of source scanned with a cold cache (target >= 5 MB/s per core), then the time of
a ``--base HEAD`` diff after a one-file change, as a ratio of the cold run: with the blob-id
cache, only the changed file is scanned again, so the ratio stays small as the repo grows.
Usage: python benchmarks/endpoints.py [FILES_PER_LANGUAGE]   (default 2000)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backend_agent.analysis.endpoints.diff import diff_contracts
from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.project import Project

PY = """from fastapi import APIRouter, Depends
from deps import get_current_user

router = APIRouter(prefix="/m{i}")


def helper_{i}(value: int) -> int:
    total = 0
    for step in range(value):
        total += step * {i}
    return total


@router.get("/items/{{item_id}}")
def read_{i}(item_id: int, user=Depends(get_current_user)):
    return {{"id": item_id, "n": helper_{i}(item_id)}}


@router.post("/items")
def create_{i}(payload: dict):
    return payload
"""

GO = """package m{i}

import "github.com/gin-gonic/gin"

func Register{i}(g *gin.RouterGroup) {{
	g.GET("/items/:id", read{i})
	g.POST("/items", create{i})
}}

func read{i}(c *gin.Context) {{
	total := 0
	for step := 0; step < 10; step++ {{
		total += step * {i}
	}}
	c.JSON(200, gin.H{{"n": total}})
}}

func create{i}(c *gin.Context) {{ c.Status(201) }}
"""


def generate(root: Path, count: int) -> int:
    size = 0
    for i in range(count):
        for path, text in ((root / "py" / f"m{i}.py", PY), (root / "go" / f"m{i}" / "r.go", GO)):
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.format(i=i)
            path.write_text(data)
            size += len(data.encode())
    calls = "\n".join(f'\tm{i}.Register{i}(api.Group("/m{i}"))' for i in range(count))
    imports = "\n".join(f'\t"example.com/bench/go/m{i}"' for i in range(count))
    header = f'package main\n\nimport (\n\t"github.com/gin-gonic/gin"\n{imports}\n)\n\n'
    main = header + f'func main() {{\n\tr := gin.Default()\n\tapi := r.Group("/api")\n{calls}\n}}\n'
    (root / "main.go").write_text(main)
    return size + len(main.encode())


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["BACKEND_AGENT_CACHE_DIR"] = str(root / ".cache")
        size = generate(root, count)
        for args in (
            ["init", "-q"],
            ["add", "."],
            ["-c", "user.email=b@x", "-c", "user.name=b", "commit", "-qm", "b"],
        ):
            subprocess.run(["git", "-C", str(root), *args], check=True)
        started = time.perf_counter()
        inventory = build_inventory(Project(root))
        cold = time.perf_counter() - started
        cores = os.cpu_count() or 1
        print(f"{2 * count} files, {size / 1e6:.1f} MB, {len(inventory.endpoints)} endpoints")
        print(
            f"cold inventory: {cold:.2f} s = {size / 1e6 / cold:.1f} MB/s "
            f"({size / 1e6 / cold / cores:.1f} MB/s per core, {cores} cores)"
        )
        (root / "py" / "m0.py").write_text(
            PY.format(i=0).replace('@router.post("/items")', '@router.put("/items")')
        )
        started = time.perf_counter()
        head = Project(root)
        changes = diff_contracts(head.at("HEAD"), head)
        warm = time.perf_counter() - started
        print(
            f"--base HEAD after a one-file change: {warm:.2f} s "
            f"= {warm / cold:.2f} x the cold run, {len(changes)} changes"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
