"""File names that are not UTF-8 are shown with escapes by Glob and every Grep mode."""

from __future__ import annotations

import os
from pathlib import Path

from backend_agent.tools import ToolSession

NAME = os.fsdecode(b"r\xe9sum\xe9.txt")
SHOWN = "r\\xe9sum\\xe9.txt"


def test_every_listing_escapes_the_name(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(b"skills: caf\xe9\nmore\n")
    (tmp_path / "plain.txt").write_text("skills: none\n")

    glob = session.call("Glob", {"pattern": "*.txt"}).content
    files = session.call("Grep", {"pattern": "skills"}).content
    count = session.call("Grep", {"pattern": "skills", "output_mode": "count"}).content
    content = session.call(
        "Grep", {"pattern": "skills", "output_mode": "content", "-A": 1, "glob": "r*"}
    ).content

    assert f"{tmp_path}/{SHOWN}" in glob.splitlines()
    assert SHOWN in files.splitlines()
    assert f"{SHOWN}:1" in count.splitlines()
    assert content.splitlines() == [f"{SHOWN}:1:skills: caf\ufffd", f"{SHOWN}-2-more"]
    for text in (glob, files, count, content):
        text.encode("utf-8")  # valid text, whatever the names
