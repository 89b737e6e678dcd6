"""Checkpoints of a work tree, and rewinds, with real files, real git and real shell commands."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend_agent.sessions.checkpoints import (
    CheckpointError,
    CheckpointStore,
    RewindConflict,
)
from backend_agent.sessions.shadow_git import EMPTY_BLOB, EMPTY_TREE
from backend_agent.tools import ToolSession


@pytest.fixture
def work(tmp_path: Path) -> Path:
    tree = tmp_path / "work"
    tree.mkdir()
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    (tree / ".gitignore").write_text("*.log\nbuild/\n")
    return tree


@pytest.fixture
def store(work: Path, tmp_path: Path) -> CheckpointStore:
    return CheckpointStore(work, tmp_path / "store")


def sh(command: str, cwd: Path) -> None:
    subprocess.run(["bash", "-c", command], cwd=cwd, check=True)


def rewind(store: CheckpointStore, target: str, *, force: bool = False) -> list[str]:
    """Rewind to ``target`` from the tree as it is now (recorded as the session's end)."""
    return store.restore(store.plan_restore(target, store.snapshot()), force=force)


def tree_digest(directory: Path) -> str:
    """Every path, mode and content under ``directory``."""
    digest = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(directory)):
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            info = path.lstat()
            content = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            digest.update(f"{path}\0{info.st_mode}\0{info.st_mtime_ns}\0".encode() + content)
    return digest.hexdigest()


# ---------------------------------------------------------------- what a rewind restores


def test_a_file_rewritten_by_the_edit_tool_comes_back(work: Path, store: CheckpointStore) -> None:
    (work / "app.py").write_text("def handler():\n    return 200\n")
    before = store.snapshot()
    with ToolSession(work) as tools:
        assert not tools.call("Read", {"file_path": "app.py"}).is_error
        edit = {"file_path": "app.py", "old_string": "200", "new_string": "500"}
        assert not tools.call("Edit", edit).is_error
    assert "500" in (work / "app.py").read_text()
    assert store.changed_files(before) == ["app.py"]
    assert rewind(store, before) == ["app.py"]
    assert (work / "app.py").read_text() == "def handler():\n    return 200\n"


def test_a_file_changed_by_sed_in_a_shell_comes_back(work: Path, store: CheckpointStore) -> None:
    (work / "settings.ini").write_text("debug = false\nport = 8000\n")
    before = store.snapshot()
    sh("sed -i 's/debug = false/debug = true/' settings.ini", work)
    after = store.snapshot()
    assert store.changed_files(before, after) == ["settings.ini"]
    store.restore(store.plan_restore(before, after))
    assert (work / "settings.ini").read_text() == "debug = false\nport = 8000\n"


def test_created_files_go_and_deleted_and_renamed_files_come_back(
    work: Path, store: CheckpointStore
) -> None:
    (work / "src").mkdir()
    (work / "src" / "old_name.py").write_text("x = 1\n")
    (work / "README.md").write_text("docs\n")
    before = store.snapshot()
    sh("mv src/old_name.py src/new_name.py && rm README.md && mkdir -p gen/deep && "
       "echo made > gen/deep/out.txt && echo new > NOTES", work)  # fmt: skip
    restored = rewind(store, before)
    assert sorted(restored) == [
        "NOTES",
        "README.md",
        "gen/deep/out.txt",
        "src/new_name.py",
        "src/old_name.py",
    ]
    assert (work / "src" / "old_name.py").read_text() == "x = 1\n"
    assert (work / "README.md").read_text() == "docs\n"
    assert not (work / "src" / "new_name.py").exists() and not (work / "NOTES").exists()
    assert not (work / "gen").exists()  # directories the session made, emptied, go too


def test_ignored_files_are_neither_recorded_nor_touched(work: Path, store: CheckpointStore) -> None:
    (work / "server.log").write_text("old log\n")
    (work / "build").mkdir()
    (work / "build" / "out.bin").write_bytes(b"\x00old")
    before = store.snapshot()
    sh("echo new log > server.log && printf 'new' > build/out.bin && echo v2 > kept.txt", work)
    assert store.changed_files(before) == ["kept.txt"]
    assert rewind(store, before) == ["kept.txt"]
    assert (work / "server.log").read_text() == "new log\n"
    assert (work / "build" / "out.bin").read_bytes() == b"new"


def test_files_the_session_did_not_change_are_not_rewritten(
    work: Path, store: CheckpointStore
) -> None:
    (work / "stable.txt").write_text("stable\n")
    (work / "moving.txt").write_text("one\n")
    first = store.snapshot()
    stamp = (work / "stable.txt").stat().st_mtime_ns
    (work / "moving.txt").write_text("two\n")
    rewind(store, first)
    assert (work / "stable.txt").stat().st_mtime_ns == stamp
    assert (work / "moving.txt").read_text() == "one\n"


def test_rewind_to_any_earlier_prompt(work: Path, store: CheckpointStore) -> None:
    checkpoints = []
    for version in range(4):
        (work / "counter.txt").write_text(f"{version}\n")
        checkpoints.append(store.snapshot())
    end = checkpoints[-1]
    for version in (2, 0, 1):
        store.restore(store.plan_restore(checkpoints[version], end), force=True)
        assert (work / "counter.txt").read_text() == f"{version}\n"


# ---------------------------------------------------------------- changes made by others


def test_a_file_changed_outside_the_session_is_a_conflict(
    work: Path, store: CheckpointStore
) -> None:
    (work / "shared.txt").write_text("original\n")
    before = store.snapshot()
    (work / "shared.txt").write_text("by the session\n")
    session_end = store.snapshot()
    (work / "shared.txt").write_text("by the user, later\n")
    plan = store.plan_restore(before, session_end)
    assert plan.files == ["shared.txt"] and plan.conflicts == ["shared.txt"]
    with pytest.raises(RewindConflict) as refused:
        store.restore(plan)
    assert refused.value.paths == ["shared.txt"]
    assert "shared.txt" in str(refused.value) and "--force" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert (work / "shared.txt").read_text() == "by the user, later\n"
    store.restore(plan, force=True)
    assert (work / "shared.txt").read_text() == "original\n"


def test_changes_outside_the_session_to_other_files_are_no_conflict(
    work: Path, store: CheckpointStore
) -> None:
    (work / "a.txt").write_text("a\n")
    before = store.snapshot()
    (work / "a.txt").write_text("a2\n")
    session_end = store.snapshot()
    (work / "unrelated.txt").write_text("the user's\n")
    plan = store.plan_restore(before, session_end)
    assert plan.files == ["a.txt"] and plan.conflicts == []
    store.restore(plan)
    assert (work / "unrelated.txt").read_text() == "the user's\n"


# ---------------------------------------------------------------- where the tree lives


def test_a_directory_that_is_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".gitignore").write_text("cache/\n")
    (plain / "main.go").write_text("package main\n")
    (plain / "cache").mkdir()
    (plain / "cache" / "blob").write_text("cached\n")
    store = CheckpointStore(plain, tmp_path / "store")
    before = store.snapshot()
    sh("sed -i 's/main/app/' main.go && echo more > cache/blob && touch extra.go", plain)
    assert sorted(rewind(store, before)) == ["extra.go", "main.go"]
    assert (plain / "main.go").read_text() == "package main\n"
    assert (plain / "cache" / "blob").read_text() == "more\n"
    assert not (plain / ".git").exists()


def test_a_subdirectory_of_a_repository_follows_the_repository_s_ignore_rules(
    work: Path, tmp_path: Path
) -> None:
    (work / ".git" / "info" / "exclude").write_text("*.secret\n")
    service = work / "services" / "billing"
    service.mkdir(parents=True)
    (service / "api.py").write_text("v1\n")
    (work / "top.txt").write_text("outside the work tree\n")
    store = CheckpointStore(service, tmp_path / "store")
    before = store.snapshot()
    sh("echo v2 > api.py && echo token > key.secret && echo trace > run.log", service)
    (work / "top.txt").write_text("changed, but not in this work tree\n")
    assert store.changed_files(before) == ["api.py"]
    assert rewind(store, before) == ["api.py"]
    assert (service / "api.py").read_text() == "v1\n"
    assert (service / "key.secret").exists() and (service / "run.log").exists()


def test_the_user_s_repository_is_never_written(work: Path, store: CheckpointStore) -> None:
    (work / "a.txt").write_text("a\n")
    sh("git add a.txt && git -c user.name=t -c user.email=t@t commit -qm first", work)
    git_dir_before = tree_digest(work / ".git")
    before = store.snapshot()
    sh("echo b > a.txt && echo c > c.txt", work)
    rewind(store, before)
    assert tree_digest(work / ".git") == git_dir_before


def test_repositories_nested_in_the_tree_are_recorded_file_by_file(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "workspace"
    for name in ("committed", "fresh"):
        (workspace / name).mkdir(parents=True)
        sh(f"git init -q && echo {name} > file.txt", workspace / name)
    sh("git add . && git -c user.name=t -c user.email=t@t commit -qm c", workspace / "committed")
    store = CheckpointStore(workspace, tmp_path / "store")
    before = store.snapshot()
    sh("echo changed > committed/file.txt && echo changed > fresh/file.txt", workspace)
    assert sorted(rewind(store, before)) == ["committed/file.txt", "fresh/file.txt"]
    assert (workspace / "committed" / "file.txt").read_text() == "committed\n"
    assert (workspace / "fresh" / "file.txt").read_text() == "fresh\n"


def test_a_repository_created_during_the_session_is_recorded(
    work: Path, store: CheckpointStore
) -> None:
    before = store.snapshot()
    sh("mkdir tool && cd tool && git init -q && echo v1 > main.py", work)
    middle = store.snapshot()
    sh("echo v2 > tool/main.py", work)
    assert store.changed_files(middle) == ["tool/main.py"]
    assert rewind(store, before) == ["tool/main.py"]
    assert not (work / "tool" / "main.py").exists()


# ---------------------------------------------------------------- what a file is


def test_modes_and_symlinks_are_kept(work: Path, store: CheckpointStore) -> None:
    script = work / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o750)
    (work / "current").symlink_to("run.sh")
    before = store.snapshot()
    sh(
        "chmod -x run.sh && rm current && ln -s /etc/hostname current && ln -s nowhere dangling",
        work,
    )
    rewind(store, before)
    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert os.readlink(work / "current") == "run.sh"
    assert not (work / "dangling").is_symlink()


def test_a_symlinked_directory_is_not_followed_out_of_the_tree(
    work: Path, store: CheckpointStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("not ours\n")
    (work / "lib").mkdir()
    (work / "lib" / "data.txt").write_text("ours\n")
    before = store.snapshot()
    sh(f"rm -r lib && ln -s {outside} lib", work)  # lib/data.txt now resolves outside
    rewind(store, before)
    assert (outside / "data.txt").read_text() == "not ours\n"
    assert not (work / "lib").is_symlink()
    assert (work / "lib" / "data.txt").read_text() == "ours\n"


def test_binary_content_and_names_that_are_not_utf8(work: Path, store: CheckpointStore) -> None:
    name = os.fsdecode(b"caf\xe9 \xff.bin")  # Latin-1 bytes: not valid UTF-8
    blob = bytes(range(256)) * 4
    (work / name).write_bytes(blob)
    (work / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    (work / ".gitattributes").write_text("* text=auto eol=lf\n")
    before = store.snapshot()
    (work / name).write_bytes(b"\x00replaced")
    (work / "crlf.txt").write_bytes(b"one\n")
    assert sorted(store.changed_files(before)) == sorted(["crlf.txt", name])
    rewind(store, before)
    assert (work / name).read_bytes() == blob
    assert (work / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n"  # no line-ending conversion


def test_files_above_the_size_cap_are_left_alone(work: Path, tmp_path: Path) -> None:
    store = CheckpointStore(work, tmp_path / "store", max_file_bytes=1_000)
    (work / "data.db").write_bytes(b"d" * 5_000)
    (work / "small.txt").write_text("small\n")
    before = store.snapshot()
    (work / "data.db").write_bytes(b"e" * 6_000)
    (work / "small.txt").write_text("grew past the cap\n" * 100)  # now too large to record
    (work / "dump.sql").write_bytes(b"x" * 2_000)  # created too large
    assert store.changed_files(before) == []
    plan = store.plan_restore(before, store.snapshot())
    assert plan.files == []
    store.restore(plan)
    assert (work / "data.db").read_bytes() == b"e" * 6_000
    assert (work / "small.txt").read_text().startswith("grew past the cap")
    assert (work / "dump.sql").exists()


def test_a_file_that_shrinks_below_the_cap_is_recorded_again(work: Path, tmp_path: Path) -> None:
    store = CheckpointStore(work, tmp_path / "store", max_file_bytes=1_000)
    (work / "notes.txt").write_bytes(b"n" * 5_000)
    store.snapshot()
    (work / "notes.txt").write_text("short\n")
    short = store.snapshot()
    (work / "notes.txt").write_text("edited\n")
    assert store.changed_files(short) == ["notes.txt"]
    rewind(store, short)
    assert (work / "notes.txt").read_text() == "short\n"


def test_a_file_that_becomes_ignored_is_left_alone(work: Path, store: CheckpointStore) -> None:
    (work / "cache.dat").write_text("v1\n")
    before = store.snapshot()
    sh("echo 'cache.dat' >> .gitignore && echo v2 > cache.dat", work)
    assert store.changed_files(before) == [".gitignore"]
    rewind(store, before)
    assert (work / ".gitignore").read_text() == "*.log\nbuild/\n"
    assert (work / "cache.dat").read_text() == "v2\n"


# ---------------------------------------------------------------- errors


def test_an_unknown_checkpoint_is_one_clear_line(work: Path, store: CheckpointStore) -> None:
    store.snapshot()
    for bad in ("not-an-id", "0123456789abcdef0123456789abcdef01234567"):
        with pytest.raises(CheckpointError) as error:
            store.changed_files(bad)
        assert bad in str(error.value) and "\n" not in str(error.value)


def test_a_path_blocked_by_a_directory_is_named(work: Path, store: CheckpointStore) -> None:
    (work / "report").write_text("a file\n")
    before = store.snapshot()
    sh("rm report && mkdir report && echo x > report/trace.log", work)  # ignored content inside
    with pytest.raises(CheckpointError, match=r"Could not restore report: .*not empty"):
        rewind(store, before)
    assert (work / "report" / "trace.log").exists()


def test_a_store_serves_one_work_tree(work: Path, tmp_path: Path) -> None:
    CheckpointStore(work, tmp_path / "store").snapshot()
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(CheckpointError, match="give each work tree its own store"):
        CheckpointStore(other, tmp_path / "store").snapshot()


def test_a_store_kept_inside_the_tree_does_not_record_itself(work: Path) -> None:
    store = CheckpointStore(work, work / ".backend-agent" / "checkpoints")
    (work / "a.txt").write_text("a\n")
    before = store.snapshot()
    (work / "a.txt").write_text("b\n")
    assert store.changed_files(before) == ["a.txt"]
    assert rewind(store, before) == ["a.txt"]


def test_a_missing_work_tree_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="is not a directory"):
        CheckpointStore(tmp_path / "absent", tmp_path / "store")


def test_the_same_state_has_the_same_id_across_stores(work: Path, tmp_path: Path) -> None:
    (work / "a.txt").write_text("a\n")
    first = CheckpointStore(work, tmp_path / "one").snapshot()
    assert CheckpointStore(work, tmp_path / "two").snapshot() == first
    assert CheckpointStore(work, tmp_path / "one").snapshot() == first  # a reopened store


@pytest.fixture
def many_files(tmp_path: Path) -> Iterator[Path]:
    tree = tmp_path / "many"
    tree.mkdir()
    for number in range(30):
        (tree / f"f{number}").write_text(str(number))
    yield tree


def test_a_tree_with_too_many_files_is_refused_before_anything_is_stored(
    many_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backend_agent.sessions.checkpoints.MAX_FILES", 20)
    store = CheckpointStore(many_files, tmp_path / "store")
    with pytest.raises(CheckpointError, match="holds 30 files that are not ignored"):
        store.snapshot()
    stored = {f"{p.parent.name}{p.name}" for p in (tmp_path / "store" / "objects").glob("??/*")}
    assert stored == {EMPTY_BLOB, EMPTY_TREE}  # what the store starts with, nothing read


# ---------------------------------------------------------------- any sequence of changes

# Paths a session plays with: "d" is at times a file and at times a directory, names carry
# glob characters and non-UTF-8 bytes, and *.log files are ignored.
PATHS = ["a.txt", "d", "d/x", "d/deep/y", "[b]*.c", os.fsdecode(b"n\xe9"), "keep.log", "e/z.log"]
IGNORED = ("keep.log", "e/z.log")
Operation = tuple[str, str, bytes, str]


def operations() -> st.SearchStrategy[list[Operation]]:
    kinds = st.sampled_from(["write", "write", "delete", "rename", "chmod", "symlink", "save"])
    one = st.tuples(kinds, st.sampled_from(PATHS), st.binary(max_size=40), st.sampled_from(PATHS))
    return st.lists(one, min_size=1, max_size=14)


def apply(work: Path, kind: str, path: str, content: bytes, other: str) -> None:
    """One change as a tool or a command would make it; impossible ones are skipped."""
    target = work / path
    if kind in ("write", "symlink"):
        for parent in reversed(target.relative_to(work).parents[:-1]):
            if (work / parent).is_file() or (work / parent).is_symlink():
                (work / parent).unlink()  # a file where a directory is needed: replaced
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            if any(target.rglob("*.log")):
                return
            shutil.rmtree(target)
        if target.is_symlink() or target.exists():
            target.unlink()
        if kind == "write":
            target.write_bytes(content)
        else:
            target.symlink_to(other)
    elif kind == "delete" and (target.is_symlink() or target.is_file()):
        target.unlink()
    elif kind == "rename" and target.is_file() and not target.is_symlink():
        destination = work / other
        if destination.parent.is_dir() and not destination.exists() and path != other:
            os.rename(target, destination)
    elif kind == "chmod" and target.is_file() and not target.is_symlink():
        target.chmod(target.stat().st_mode ^ 0o111)


def state(work: Path) -> dict[str, tuple[str, bytes, bool]]:
    """Every file below ``work`` (but .git and .gitignore): kind, content, executable."""
    files = {}
    for root, dirs, names in os.walk(work):
        links = [name for name in dirs if Path(root, name).is_symlink()]  # not walked into
        dirs[:] = [name for name in dirs if name != ".git" and name not in links]
        for name in names + links:
            path = Path(root, name)
            relative = path.relative_to(work).as_posix()
            if relative == ".gitignore":
                continue
            if path.is_symlink():
                files[relative] = ("link", os.fsencode(os.readlink(path)), False)
            else:
                files[relative] = ("file", path.read_bytes(), os.access(path, os.X_OK))
    return files


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=operations(), pick=st.integers(min_value=0))
def test_rewinding_to_checkpoint_k_gives_back_exactly_its_files(
    tmp_path_factory: pytest.TempPathFactory, steps: list[Operation], pick: int
) -> None:
    base = tmp_path_factory.mktemp("property")
    work = base / "work"
    work.mkdir()
    (work / ".gitignore").write_text("*.log\n")
    store = CheckpointStore(work, base / "store")
    snapshots = [store.snapshot()]
    states = [state(work)]
    for kind, path, content, other in steps:
        if kind == "save":
            snapshots.append(store.snapshot())
            states.append(state(work))
        else:
            apply(work, kind, path, content, other)
    session_end = store.snapshot()
    ignored_before = {p: v for p, v in state(work).items() if p in IGNORED}
    k = pick % len(snapshots)

    store.restore(store.plan_restore(snapshots[k], session_end))

    now = state(work)
    assert {p: v for p, v in now.items() if p not in IGNORED} == {
        p: v for p, v in states[k].items() if p not in IGNORED
    }
    assert {p: v for p, v in now.items() if p in IGNORED} == ignored_before
    assert store.snapshot() == snapshots[k]
