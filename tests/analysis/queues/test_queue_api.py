"""The entry points other analyses (the grounded report, project facts) build on."""

from __future__ import annotations

import json
from pathlib import Path

from queues_support import FIXTURES, commit_all, init_repo

from backend_agent.analysis import queues
from backend_agent.analysis.project import Project


def test_inventory_and_diff_are_json_serialisable(tmp_path: Path) -> None:
    inventory = queues.queue_inventory(Project(FIXTURES / "go"))
    assert json.loads(json.dumps(inventory.as_dict())) == inventory.as_dict()
    init_repo(tmp_path)
    (tmp_path / "t.py").write_text(
        "import redis\n\nr = redis.Redis()\n\ndef f():\n    r.publish('a', 1)\n"
    )
    commit_all(tmp_path)
    (tmp_path / "t.py").write_text(
        "import redis\n\nr = redis.Redis()\n\ndef f():\n    r.publish('b', 1)\n"
    )
    head = Project(tmp_path)
    changes = queues.diff_queues(head.at("HEAD"), head)
    assert json.loads(json.dumps([c.as_dict() for c in changes])) == [
        {
            "rule": "channel-renamed",
            "compatibility": "breaking",
            "message": changes[0].message,
            "file": "t.py",
            "line": 6,
            "kind": "channel",
        }
    ]


def test_unknown_names_are_attribute_errors() -> None:
    try:
        queues.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("no AttributeError")
