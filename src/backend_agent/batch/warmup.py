"""Imported by the local executor's fork server, once: the evidence engine is exercised on a
tiny throwaway repository (every extractor imported, each language's parser built, the
report templates compiled), so that every task process forked from the server starts warm
instead of paying for it per task."""

from __future__ import annotations

import gc
import subprocess
import tempfile
from pathlib import Path

FILES = {
    "app.py": "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/a')\ndef a():\n"
    "    return 'a'\n",
    "server.js": "const app = require('express')();\napp.get('/a', (req, res) => res.end());\n",
    "main.go": 'package main\n\nimport "net/http"\n\nfunc main() {\n'
    '\thttp.HandleFunc("/a", nil)\n}\n',
    "config/routes.rb": "Rails.application.routes.draw do\n  get '/a', to: 'a#index'\nend\n",
    "migrations/0001_a.sql": "CREATE TABLE a (id bigint);\n",
}


def warm_up() -> None:
    """Build and render one report; any failure only means the tasks start cold."""
    from backend_agent.analysis import Project, build_report, render
    from backend_agent.analysis.report import FORMATS

    try:
        with tempfile.TemporaryDirectory(prefix="backend-agent-warmup-") as directory:
            root = Path(directory)
            for name, text in FILES.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(text, encoding="utf-8")
            # a git repository keeps the scan cache in its own .git, deleted with it
            subprocess.run(["git", "init", "-q"], cwd=root, check=True, capture_output=True)
            report = build_report(Project(root))
            for fmt in FORMATS:
                render(report, fmt)
    except Exception:  # warming up is an optimisation, never a failure
        return


warm_up()
# Everything loaded so far lives as long as the server: keeping it out of the collector's
# reach spares the task processes from copying those pages when a collection walks them.
gc.freeze()
