"""``backend-agent batch --executor ray`` against a real local Ray cluster (real worker
processes, never local_mode), started once for the module: the batch connects to it with
``--ray-address``, as it would to a remote one."""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.batch.conftest import (
    check_six_results,
    results,
    run_batch_command,
    six_tasks,
    start_batch,
    wait_for,
    waiting_task,
    worker_pid,
    write_tasks,
)

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'backend-agent[ray]'")


@pytest.fixture(scope="module")
def ray_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A two-CPU Ray cluster; the environment a batch process needs to join it."""
    home = tmp_path_factory.mktemp("ray-home")
    with pytest.MonkeyPatch.context() as patch:  # the workers' home is a temporary one too
        patch.setenv("HOME", str(home))
        patch.setenv("BACKEND_AGENT_HOME", str(home / ".backend-agent"))
        patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)  # fmt: skip
        try:
            env = {"RAY_ADDRESS": ray.get_runtime_context().gcs_address}
            token = home / ".ray" / "auth_token"
            if token.exists():
                env["RAY_AUTH_TOKEN_PATH"] = str(token)
            yield env
        finally:
            ray.shutdown()


def test_six_tasks_over_three_repositories_on_ray(
    ray_env: dict[str, str], repos: dict[str, Path], tmp_path: Path, notes_script: str
) -> None:
    tasks = six_tasks(repos, tmp_path, notes_script)
    out = tmp_path / "out"
    done = run_batch_command(
        tasks, "--out", out, "--executor", "ray", "--ray-address", ray_env["RAY_ADDRESS"],
        cwd=tmp_path, env={**os.environ, **ray_env},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    check_six_results(out, repos)
    assert "6 ok, 0 failed" in done.stdout


def test_a_killed_ray_worker_is_retried_and_the_task_completes(
    ray_env: dict[str, str], repos: dict[str, Path], tmp_path: Path, waiting_script: str
) -> None:
    tasks = write_tasks(
        tmp_path / "tasks.jsonl",
        [
            waiting_task("waits", repos["orders"], waiting_script),
            {"id": "broken", "repo": str(tmp_path / "gone"), "report": True},
        ],
    )
    out = tmp_path / "out"
    env = {**os.environ, **ray_env}  # RAY_ADDRESS: the cluster to join, without --ray-address
    batch = start_batch(tasks, "--out", out, "--executor", "ray", cwd=tmp_path, env=env)
    try:
        wait_for((repos["orders"] / "STARTED").exists, "the task to start waiting")
        first = json.loads((out / "tasks" / "waits" / "worker.json").read_text())
        assert ray_worker(first["pid"])  # the task runs in a Ray worker process
        os.kill(first["pid"], signal.SIGKILL)
        (repos["orders"] / "GO").touch()  # the retry runs to the end
        _, stderr = batch.communicate(timeout=180)
    finally:
        (repos["orders"] / "GO").touch()
        batch.kill()
    assert batch.returncode == 1, stderr  # the broken task failed
    broken = results(out)["broken"]  # an error of the task itself: a result, not a retry
    assert (broken["status"], broken["subtype"]) == ("failed", "error_during_execution")
    assert broken["result"].startswith(f"repo {tmp_path / 'gone'}: not a directory")
    line = results(out)["waits"]
    assert (line["status"], line["subtype"], line["result"]) == ("ok", "success", "released")
    assert line["session_id"] != first["session_id"]
    transcripts = {p.stem for p in (out / "tasks" / "waits").glob("*.jsonl")}
    assert transcripts == {first["session_id"], line["session_id"]}  # the killed attempt's kept
    assert worker_pid(out, "waits") != first["pid"]


def ray_worker(pid: int) -> bool:
    """Whether ``pid`` is one of Ray's worker processes."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except FileNotFoundError:
        return False
    return b"ray::" in command or b"default_worker.py" in command
