"""Files and file names that are not UTF-8: the bytes on disk are kept, while tool results,
requests, stream-json and the transcript stay valid UTF-8 (undecodable text is replaced,
undecodable names are shown escaped)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fault_harness import Provider, check_run, run_agent

LATIN1 = "caf\xe9 = 1\nname = 'old'\n".encode("latin-1")


def test_an_edit_of_a_latin1_file_and_a_glob_over_a_latin1_name(
    provider: Provider, project: Path, home: Path
) -> None:
    (project / "menu.py").write_bytes(LATIN1)
    (project / os.fsdecode(b"r\xe9sum\xe9.txt")).write_bytes(b"cv\n")
    provider.server.add(
        provider.calls(("Read", {"file_path": "menu.py"}), ("Glob", {"pattern": "*.txt"})),
        provider.calls(
            ("Edit", {"file_path": "menu.py", "old_string": "'old'", "new_string": "'new'"})
        ),
        provider.text("Renamed it."),
    )

    run = run_agent(provider, project, home)

    check_run(run, code=0, subtype="success")
    assert (project / "menu.py").read_bytes() == LATIN1.replace(b"'old'", b"'new'")
    read, glob, edit = run.tool_results()
    assert "caf\ufffd = 1" in str(read["content"])
    assert str(glob["content"]).endswith("r\\xe9sum\\xe9.txt")
    assert not edit["is_error"] and "caf\ufffd = 1" in str(edit["content"])
    last_request = json.dumps(provider.server.requests[-1].body, ensure_ascii=False)
    assert "r\\\\xe9sum\\\\xe9.txt" in last_request and "caf\ufffd" in last_request
