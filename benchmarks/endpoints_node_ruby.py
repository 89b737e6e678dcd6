"""Endpoint inventory speed on a generated Node.js/TypeScript + Ruby (Rails) repository.

The companion of ``benchmarks/endpoints.py`` (Python and Go) for the JavaScript and Ruby
extractors: N files per language, one in ten declaring routes (Express routers mounted from
an app file, Rails controllers behind ``resources``), the rest services and models. Prints
MB/s scanned with a cold cache (target >= 5 MB/s per core), then the time of a
``--base HEAD`` diff after a one-file change as a ratio of the cold run.
Usage: python benchmarks/endpoints_node_ruby.py [FILES_PER_LANGUAGE]   (default 2000)
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
from backend_agent.analysis.endpoints.javascript import extractor as javascript
from backend_agent.analysis.endpoints.ruby import extractor as ruby
from backend_agent.analysis.project import Project

ROUTE_SHARE = 10  # one file in ten declares routes, as in a typical service

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


def generate(root: Path, count: int) -> int:
    """Write the repository; returns its size in bytes."""
    routes = max(1, count // ROUTE_SHARE)
    files: list[tuple[Path, str]] = []
    for i in range(count - routes):
        files.append((root / "web" / "src" / "services" / f"s{i}.ts", SERVICE_TS.format(i=i)))
        files.append((root / "rails" / "app" / "models" / f"thing{i}.rb", MODEL_RB.format(i=i)))
    for i in range(routes):
        files.append((root / "web" / "src" / "routes" / f"r{i}.ts", ROUTE_TS.format(i=i)))
        controller = root / "rails" / "app" / "controllers" / f"things{i}_controller.rb"
        files.append((controller, CONTROLLER_RB.format(i=i)))
    imports = "".join(f"import r{i} from './routes/r{i}';\n" for i in range(routes))
    mounts = "".join(f"app.use('/api/m{i}', r{i});\n" for i in range(routes))
    app_ts = f"import express from 'express';\n{imports}\nconst app = express();\n{mounts}"
    files.append((root / "web" / "src" / "app.ts", app_ts))
    resources = "".join(
        f"    resources :things{i}, only: %i[index show create update]\n" for i in range(routes)
    )
    routes_rb = f"Rails.application.routes.draw do\n  scope :api do\n{resources}  end\nend\n"
    files.append((root / "rails" / "config" / "routes.rb", routes_rb))
    size = 0
    for path, text in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        size += len(text.encode())
    return size


def scan_only(project: Project) -> tuple[int, float]:
    """Bytes given to the two extractors' ``scan`` and the seconds it took, in this process."""
    total, seconds = 0, 0.0
    for extractor in (javascript, ruby):
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
        changed = ROUTE_TS.format(i=0).replace("router.post('/items'", "router.put('/items'")
        (root / "web" / "src" / "routes" / "r0.ts").write_text(changed)
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
