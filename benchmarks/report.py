"""``backend-agent report`` on a generated repository: time and peak memory.

Generates N modules in each of Python, JavaScript, Go and Ruby (routes, queries, a secret
or two), plus migrations and tests, commits them, then commits a small change. Runs, each in
its own process: a baseline that only parses every source file with tree-sitter, the full
report of the whole repository, and the ``--base HEAD~1`` report of the change. The endpoint
scan cache lives in the generated repository's .git, so the first report runs cold. Prints wall
time, peak resident memory (of the report process itself; endpoint-scan worker processes are
not counted) and each time as a ratio of the parse-only baseline measured in the same run.
Usage: python benchmarks/report.py [MODULES_PER_LANGUAGE]   (default 500)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = """from flask import Blueprint, request

bp = Blueprint("m{i}", __name__, url_prefix="/m{i}")
API_KEY = "k{i}-0123456789abcdef"


@bp.get("/items")
def list_{i}(db):
    name = request.args.get("name")
    return db.execute(f"SELECT * FROM items_{i} WHERE name = '{{name}}'")


@bp.post("/items")
def create_{i}(db):
    return db.execute("INSERT INTO items_{i} (name) VALUES (?)", (request.json["name"],))
"""
JS = """const express = require('express');
const router = express.Router();

router.get('/m{i}/items/:id', async (req, res) => {{
  const rows = await req.db.query('SELECT * FROM items_{i} WHERE id = $1', [req.params.id]);
  res.json(rows);
}});

router.post('/m{i}/items', async (req, res) => {{
  await req.db.query(`INSERT INTO items_{i} (name) VALUES ('${{req.body.name}}')`);
  res.status(201).end();
}});

module.exports = router;
"""
GO = """package m{i}

import (
	"database/sql"
	"net/http"

	"github.com/gin-gonic/gin"
)

func Register(g *gin.RouterGroup, db *sql.DB) {{
	g.GET("/m{i}/items", func(c *gin.Context) {{
		rows, _ := db.Query("SELECT * FROM items_{i} WHERE name = '" + c.Query("name") + "'")
		c.JSON(http.StatusOK, rows)
	}})
}}
"""
RB = """class Items{i}Controller < ApplicationController
  def index
    @items = Item.where("name = '#{{params[:name]}}'")
  end

  def create
    Item.create!(name: params[:name])
  end
end
"""
MIGRATION = """class CreateItems{i} < ActiveRecord::Migration[7.1]
  def change
    create_table :items_{i} do |t|
      t.string :name
    end
  end
end
"""
TEST = "def test_{i}():\n    assert {i} >= 0\n"


def generate(root: Path, count: int) -> None:
    files = {
        "requirements.txt": "flask\npytest\n",
        "package.json": '{"name": "bench", "dependencies": {"express": "^4"}}\n',
        "go.mod": "module example.com/bench\n\ngo 1.22\n",
        "Gemfile": 'source "https://rubygems.org"\ngem "rails"\n',
        "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    }
    for i in range(count):
        files[f"py/m{i}.py"] = PY.format(i=i)
        files[f"js/m{i}.js"] = JS.format(i=i)
        files[f"go/m{i}/routes.go"] = GO.format(i=i)
        files[f"app/controllers/items{i}_controller.rb"] = RB.format(i=i)
        files[f"tests/test_m{i}.py"] = TEST.format(i=i)
        if i % 10 == 0:
            files[f"db/migrate/{20240101000000 + i}_create_items{i}.rb"] = MIGRATION.format(i=i)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def change(root: Path) -> None:
    """A typical change: one new endpoint, one destructive migration, one test."""
    with (root / "py" / "m0.py").open("a") as handle:
        handle.write(
            '\n\n@bp.delete("/items/<int:item_id>")\ndef delete_0(item_id):\n    return ""\n'
        )
    (root / "db" / "migrate" / "20250101000000_drop_items0_name.rb").write_text(
        "class DropItems0Name < ActiveRecord::Migration[7.1]\n"
        "  def change\n    remove_column :items_0, :name\n  end\nend\n"
    )
    (root / "tests" / "test_delete.py").write_text("def test_delete():\n    assert True\n")


PARSE_ONLY = """
import sys
from backend_agent.analysis.parsing import language_for, parse
from backend_agent.analysis.project import Project
project = Project(sys.argv[1])
for path in project.files():
    language = language_for(path)
    if language is not None:
        parse(project.read_bytes(path), language)
"""


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        error = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed: {error}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        generate(root, count)
        git(root, "init", "-q")
        git(root, "add", ".")
        git(root, "commit", "-qm", "base")
        change(root)
        git(root, "add", ".")
        git(root, "commit", "-qm", "change")
        files = sum(1 for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
        print(f"repository: {files} files ({count} modules per language)")
        report = [sys.executable, "-m", "backend_agent", "report", str(root)]
        runs = [
            ("parse only (baseline)", [sys.executable, "-c", PARSE_ONLY, str(root)]),
            ("report, whole repository, md", [*report, "--format", "md"]),
            ("report, whole repository, html", [*report, "--format", "html"]),
            ("report --base HEAD~1, json", [*report, "--base", "HEAD~1", "--format", "json"]),
        ]
        baseline = None
        for label, argv in runs:
            seconds, peak = measure(argv)
            baseline = baseline or seconds
            print(f"{label:34} {seconds:7.2f} s  {seconds / baseline:5.1f}x  peak {peak:7.1f} MB")


if __name__ == "__main__":
    main()
