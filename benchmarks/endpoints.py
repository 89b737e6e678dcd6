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
from backend_agent.analysis.endpoints.inventory import build_inventory, extractors
from backend_agent.analysis.project import Project

ROUTE_PY = """from fastapi import APIRouter, Depends

from app.deps import get_current_user
from app.services.s{i} import Service{i}

router = APIRouter(prefix="/m{i}")


@router.get("/items/{{item_id}}")
def read_{i}(item_id: int, user=Depends(get_current_user)):
    return Service{i}().load(item_id)


@router.post("/items")
def create_{i}(payload: dict):
    return Service{i}().save(payload)
"""

SERVICE_PY = """from dataclasses import dataclass

from app.models import Record


@dataclass
class Service{i}:
    \"\"\"Business logic number {i}.\"\"\"

    limit: int = {i}

    def load(self, key: int) -> Record:
        total = 0
        for step in range(self.limit):
            if step % 3 == 0:
                total += step * key
            elif step % 5 == 0:
                total -= step
            else:
                total ^= step
        return Record(key=key, total=total)

    def save(self, payload: dict) -> Record:
        cleaned = {{k: v for k, v in payload.items() if not k.startswith("_")}}
        for name, value in sorted(cleaned.items()):
            if isinstance(value, str) and len(value) > 200:
                raise ValueError(f"{{name}} is too long")
        return Record(key=len(cleaned), total=sum(len(str(v)) for v in cleaned.values()))
"""

ROUTE_GO = """package m{i}

import (
	"github.com/gin-gonic/gin"

	"example.com/bench/go/services/s{i}"
)

func Register{i}(g *gin.RouterGroup) {{
	g.GET("/items/:id", read{i})
	g.POST("/items", create{i})
}}

func read{i}(c *gin.Context) {{ c.JSON(200, s{i}.Load(c.Param("id"))) }}

func create{i}(c *gin.Context) {{ c.Status(201) }}
"""

SERVICE_GO = """package s{i}

import (
	"fmt"
	"strings"
)

// Record is what service {i} returns.
type Record struct {{
	Key   string
	Total int
}}

// Load computes a record for a key.
func Load(key string) Record {{
	total := 0
	for step := 0; step < {i}%50+10; step++ {{
		switch {{
		case step%3 == 0:
			total += step * len(key)
		case step%5 == 0:
			total -= step
		default:
			total ^= step
		}}
	}}
	return Record{{Key: strings.ToUpper(key), Total: total}}
}}

// Describe formats a record.
func Describe(r Record) string {{
	parts := []string{{r.Key, fmt.Sprint(r.Total)}}
	return strings.Join(parts, ":")
}}
"""

ROUTE_SHARE = 10  # one file in ten declares routes, as in a typical service


def generate(root: Path, count: int) -> int:
    """``count`` files per language: route modules, and service modules with ordinary code."""
    size = 0
    routes = max(1, count // ROUTE_SHARE)
    files: list[tuple[Path, str]] = []
    for i in range(count):
        files.append((root / "app" / "services" / f"s{i}.py", SERVICE_PY.format(i=i)))
        files.append((root / "go" / "services" / f"s{i}" / "s.go", SERVICE_GO.format(i=i)))
    for i in range(routes):
        files.append((root / "app" / "api" / f"m{i}.py", ROUTE_PY.format(i=i)))
        files.append((root / "go" / f"m{i}" / "r.go", ROUTE_GO.format(i=i)))
    calls = "\n".join(f'\tm{i}.Register{i}(api.Group("/m{i}"))' for i in range(routes))
    imports = "\n".join(f'\t"example.com/bench/go/m{i}"' for i in range(routes))
    header = f'package main\n\nimport (\n\t"github.com/gin-gonic/gin"\n{imports}\n)\n\n'
    files.append(
        (
            root / "main.go",
            header
            + f'func main() {{\n\tr := gin.Default()\n\tapi := r.Group("/api")\n{calls}\n}}\n',
        )
    )
    includes = "\n".join(f"app.include_router(m{i}.router)" for i in range(routes))
    modules = ", ".join(f"m{i}" for i in range(routes))
    main_py = f"from fastapi import FastAPI\nfrom app.api import {modules}\n\napp = FastAPI()\n"
    files.append((root / "app" / "main.py", main_py + includes + "\n"))
    for path, text in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        size += len(text.encode())
    return size


def scan_only(project: Project) -> tuple[int, float]:
    """Bytes given to the extractors' ``scan`` and the seconds it took, in this process."""
    total, seconds = 0, 0.0
    for extractor in extractors():
        sources = [(p, project.read_bytes(p)) for p in project.files() if extractor.wants(p)]
        started = time.perf_counter()
        for path, data in sources:
            extractor.scan(path, data)
        seconds += time.perf_counter() - started
        total += sum(len(data) for _, data in sources)
    return total, seconds


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
        files = len(Project(root).files())
        print(f"{files} files, {size / 1e6:.1f} MB, {len(inventory.endpoints)} endpoints")
        print(
            f"cold inventory (list, read, hash, scan, resolve): {cold:.2f} s "
            f"= {size / 1e6 / cold:.1f} MB/s ({cores} cores)"
        )
        scanned, seconds = scan_only(Project(root))
        print(
            f"scanning alone, one process: {scanned / 1e6:.1f} MB in {seconds:.2f} s "
            f"= {scanned / 1e6 / seconds:.1f} MB/s per core (target >= 5)"
        )
        changed = ROUTE_PY.format(i=0).replace('@router.post("/items")', '@router.put("/items")')
        (root / "app" / "api" / "m0.py").write_text(changed)
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
