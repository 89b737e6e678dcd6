"""Endpoint inventory speed on a generated repository (Python, Go, Node.js/TypeScript, Ruby).

N files per language, one in ten declaring routes (FastAPI routers, Gin groups, Express routers
mounted from an app file, Rails controllers behind ``resources``), the rest ordinary service
and model code. Prints MB/s of source scanned per language and in total with a cold cache
(target >= 5 MB/s per core), then, per language, the time of a ``--base HEAD`` diff after a
one-file change as a ratio of the cold run: with the blob-id cache only the changed file is
scanned again, so the ratio stays small as the repository grows.
Usage: python benchmarks/endpoints.py [FILES_PER_LANGUAGE]   (default 2000)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend_agent.analysis.endpoints.diff import diff_contracts
from backend_agent.analysis.endpoints.inventory import build_inventory, extractors
from backend_agent.analysis.project import Project

ROUTE_SHARE = 10  # one file in ten declares routes, as in a typical service

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

SERVICE_PY = """from collections.abc import Callable, Iterable
from dataclasses import dataclass

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

ROUTE_TS = """import {{ Router }} from 'express';
import {{ requireUser }} from '../middleware/auth';
import {{ service{i} }} from '../services/s{i}';

const router = Router();

router.get('/items/:id', requireUser, async (req, res, next) => {{
  try {{
    res.json({{ item: await service{i}.load(Number(req.params.id)) }});
  }} catch (error) {{
    next(error);
  }}
}});

router.post('/items', async (req, res) => {{
  res.status(201).json(await service{i}.save(req.body));
}});

export default router;
"""

SERVICE_TS = """import {{ db }} from '../db';

export interface Record{i} {{
  key: number;
  total: number;
}}

export class Service{i} {{
  constructor(private readonly limit = {i}) {{}}

  async load(key: number): Promise<Record{i}> {{
    let total = 0;
    for (let step = 0; step < this.limit; step += 1) {{
      if (step % 3 === 0) total += step * key;
      else if (step % 5 === 0) total -= step;
      else total ^= step;
    }}
    const rows = await db.query('select total from records where key = $1', [key]);
    return {{ key, total: total + rows.length }};
  }}

  async save(payload: Record<string, unknown>): Promise<Record{i}> {{
    const cleaned = Object.fromEntries(
      Object.entries(payload).filter(([name]) => !name.startsWith('_')),
    );
    for (const [name, value] of Object.entries(cleaned)) {{
      if (typeof value === 'string' && value.length > 200) {{
        throw new Error(`${{name}} is too long`);
      }}
    }}
    return {{ key: Object.keys(cleaned).length, total: JSON.stringify(cleaned).length }};
  }}
}}

export const service{i} = new Service{i}();
"""

CONTROLLER_RB = """class Things{i}Controller < ApplicationController
  before_action :authenticate_user!, except: %i[index show]
  before_action :set_thing, only: %i[show update]

  def index
    render json: Thing{i}.order(created_at: :desc).limit(params[:limit] || 20)
  end

  def show
    render json: @thing
  end

  def create
    thing = Thing{i}.new(thing_params)
    if thing.save
      render json: thing, status: :created
    else
      render json: {{ errors: thing.errors }}, status: :unprocessable_entity
    end
  end

  def update
    @thing.update!(thing_params)
    render json: @thing
  end

  private

  def set_thing
    @thing = Thing{i}.find(params[:id])
  end

  def thing_params
    params.require(:thing).permit(:name, :body)
  end
end
"""

MODEL_RB = """class Thing{i} < ApplicationRecord
  belongs_to :owner, class_name: "User"
  has_many :parts, dependent: :destroy

  validates :name, presence: true, length: {{ maximum: 200 }}
  scope :recent, -> {{ order(created_at: :desc) }}

  def total(limit = {i})
    (0...limit).reduce(0) do |sum, step|
      if (step % 3).zero?
        sum + step * id
      elsif (step % 5).zero?
        sum - step
      else
        sum ^ step
      end
    end
  end

  def summary
    parts.map {{ |part| "#{{part.name}}: #{{part.weight}}" }}.join(", ")
  end
end
"""


def python_app(routes: int) -> tuple[str, str]:
    """The FastAPI app including every router: (path, text)."""
    modules = ", ".join(f"m{i}" for i in range(routes))
    includes = "".join(f"app.include_router(m{i}.router)\n" for i in range(routes))
    head = f"from fastapi import FastAPI\nfrom app.api import {modules}\n\napp = FastAPI()\n"
    return "app/main.py", head + includes


def go_app(routes: int) -> tuple[str, str]:
    """The Gin main registering every route package under an ``/api`` group."""
    imports = "".join(f'\t"example.com/bench/go/m{i}"\n' for i in range(routes))
    calls = "".join(f'\tm{i}.Register{i}(api.Group("/m{i}"))\n' for i in range(routes))
    head = f'package main\n\nimport (\n\t"github.com/gin-gonic/gin"\n{imports})\n\n'
    body = f'func main() {{\n\tr := gin.Default()\n\tapi := r.Group("/api")\n{calls}}}\n'
    return "main.go", head + body


def typescript_app(routes: int) -> tuple[str, str]:
    """The Express app mounting every router under ``/api/m{i}``."""
    imports = "".join(f"import r{i} from './routes/r{i}';\n" for i in range(routes))
    mounts = "".join(f"app.use('/api/m{i}', r{i});\n" for i in range(routes))
    return (
        "web/src/app.ts",
        f"import express from 'express';\n{imports}\nconst app = express();\n{mounts}",
    )


def rails_routes(routes: int) -> tuple[str, str]:
    """``config/routes.rb`` with one ``resources`` line per controller."""
    resources = "".join(
        f"    resources :things{i}, only: %i[index show create update]\n" for i in range(routes)
    )
    text = f"Rails.application.routes.draw do\n  scope :api do\n{resources}  end\nend\n"
    return "rails/config/routes.rb", text


@dataclass(frozen=True)
class Language:
    """How the generated repository lays out one language's files."""

    extractor: str
    service: str  # template of an ordinary file, formatted with i
    service_path: str  # relative path, formatted with i
    route: str  # template of a file that declares routes
    route_path: str
    edited_file: str  # the file of the one-file change
    edit: tuple[str, str]  # (old, new): the change, which alters one endpoint
    app_file: Callable[[int], tuple[str, str]]  # mounts N route modules: (path, text)


LANGUAGES = (
    Language(
        extractor="python",
        service=SERVICE_PY,
        service_path="app/services/s{i}.py",
        route=ROUTE_PY,
        route_path="app/api/m{i}.py",
        edited_file="app/api/m0.py",
        edit=('@router.post("/items")', '@router.put("/items")'),
        app_file=python_app,
    ),
    Language(
        extractor="go",
        service=SERVICE_GO,
        service_path="go/services/s{i}/s.go",
        route=ROUTE_GO,
        route_path="go/m{i}/r.go",
        edited_file="go/m0/r.go",
        edit=('g.POST("/items"', 'g.PUT("/items"'),
        app_file=go_app,
    ),
    Language(
        extractor="javascript",
        service=SERVICE_TS,
        service_path="web/src/services/s{i}.ts",
        route=ROUTE_TS,
        route_path="web/src/routes/r{i}.ts",
        edited_file="web/src/routes/r0.ts",
        edit=("router.post('/items'", "router.put('/items'"),
        app_file=typescript_app,
    ),
    Language(
        extractor="ruby",
        service=MODEL_RB,
        service_path="rails/app/models/thing{i}.rb",
        route=CONTROLLER_RB,
        route_path="rails/app/controllers/things{i}_controller.rb",
        edited_file="rails/config/routes.rb",
        edit=(
            "resources :things0, only: %i[index show create update]",
            "resources :things0, only: %i[index show update]",
        ),
        app_file=rails_routes,
    ),
)


def generate(root: Path, count: int) -> int:
    """Write ``count`` source files per language (plus each app file); returns the bytes."""
    routes = max(1, count // ROUTE_SHARE)
    files: list[tuple[str, str]] = []
    for language in LANGUAGES:
        for i in range(count - routes):
            files.append((language.service_path.format(i=i), language.service.format(i=i)))
        for i in range(routes):
            files.append((language.route_path.format(i=i), language.route.format(i=i)))
        files.append(language.app_file(routes))
    return write_files(root, files)


def write_files(root: Path, files: Iterable[tuple[str, str]]) -> int:
    """Write each ``(relative path, text)`` under ``root``; returns the bytes written."""
    size = 0
    for relative, text in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        size += len(text.encode())
    return size


def report_scanning(project: Project, scanners: Iterable[Any] | None = None) -> None:
    """Print the ``scan`` throughput of each extractor (by default the endpoint extractors;
    anything with ``name``, ``wants`` and ``scan``) in this process, then the total."""
    total, total_seconds = 0, 0.0
    for extractor in scanners if scanners is not None else extractors():
        sources = [(p, project.read_bytes(p)) for p in project.files() if extractor.wants(p)]
        if not sources:
            continue
        started = time.perf_counter()
        for path, data in sources:
            extractor.scan(path, data)
        seconds = time.perf_counter() - started
        size = sum(len(data) for _, data in sources)
        print(
            f"  {extractor.name:<10} {len(sources):>6} files {size / 1e6:6.1f} MB "
            f"in {seconds:6.2f} s = {size / 1e6 / seconds:5.1f} MB/s"
        )
        total += size
        total_seconds += seconds
    print(
        f"  {'total':<10} {total / 1e6:19.1f} MB in {total_seconds:6.2f} s "
        f"= {total / 1e6 / total_seconds:5.1f} MB/s per core (target >= 5)"
    )


def report_one_file_change(root: Path, cold: float) -> None:
    """Per language: ``--base HEAD`` after changing one file, then undo the change."""
    for language in LANGUAGES:
        path = root / language.edited_file
        original = path.read_text()
        old, new = language.edit
        path.write_text(original.replace(old, new))
        started = time.perf_counter()
        head = Project(root)
        changes = diff_contracts(head.at("HEAD"), head)
        warm = time.perf_counter() - started
        path.write_text(original)
        print(
            f"  {language.extractor:<10} {warm:.2f} s = {warm / cold:.2f} x the cold run, "
            f"{len(changes)} changes"
        )


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
        print("scanning alone, one process:")
        report_scanning(Project(root))
        print("--base HEAD after a one-file change:")
        report_one_file_change(root, cold)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
