"""Private database servers for tests: PostgreSQL, MariaDB and Redis from the Debian packages,
each on 127.0.0.1 at a free port, in a temporary directory, stopped at the end of the session.

Import the fixtures into a test module (``from services import postgres, mariadb, redis``);
tests skip only when the server binary is not installed.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "s3cret-test-pw"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Server:
    """A running server: where it listens and how to log in."""

    host: str
    port: int
    user: str
    password: str
    database: str
    url: str  # with the password, for the code under test


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port}:\n{log.read_text(errors='replace')}")


def _as_user(user: str | None) -> list[str]:
    """Prefix that runs a command as ``user`` when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", user, "--"] if user else []


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """PostgreSQL with password (scram) authentication on 127.0.0.1; database ``app``."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    run_as = "postgres" if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="pg-") as tmp:
        base = Path(tmp)
        data, pwfile, log = base / "data", base / "pw", base / "log"
        pwfile.write_text(PASSWORD)
        if run_as:
            entry = pwd.getpwnam(run_as)
            os.chown(base, entry.pw_uid, entry.pw_gid)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [
                *_as_user(run_as),
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "app",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        port = free_port()
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *_as_user(run_as),
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            url = f"postgresql://app:{PASSWORD}@127.0.0.1:{port}/postgres"
            _run_sql_postgres(url, "CREATE DATABASE app")
            yield Server(
                "127.0.0.1", port, "app", PASSWORD, "app", url.replace("/postgres", "/app")
            )
        finally:
            subprocess.run(
                [
                    *_as_user(run_as),
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                check=False,
                capture_output=True,
            )


def _run_sql_postgres(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


@pytest.fixture(scope="session")
def mariadb() -> Iterator[Server]:
    """MariaDB with a password user ``app`` on 127.0.0.1; database ``app``."""
    server = shutil.which("mariadbd") or shutil.which("mysqld")
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if server is None or install is None:
        pytest.skip("MariaDB server binaries are not installed")
    user = pwd.getpwuid(os.geteuid()).pw_name
    with tempfile.TemporaryDirectory(prefix="mariadb-") as tmp:
        base = Path(tmp)
        data, log, sock = base / "data", base / "log", base / "mysqld.sock"
        subprocess.run(
            [
                install,
                f"--user={user}",
                f"--datadir={data}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        port = free_port()
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    server,
                    "--no-defaults",
                    f"--user={user}",
                    f"--datadir={data}",
                    f"--port={port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={sock}",
                    f"--pid-file={base / 'pid'}",
                    "--skip-name-resolve",
                    "--innodb-buffer-pool-size=16M",
                    "--skip-log-bin",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, process, log)
            _setup_mariadb(sock, user)
            url = f"mysql://app:{PASSWORD}@127.0.0.1:{port}/app"
            yield Server("127.0.0.1", port, "app", PASSWORD, "app", url)
        finally:
            _stop(process)


def _setup_mariadb(sock: Path, os_user: str) -> None:
    import pymysql

    connection = pymysql.connect(
        unix_socket=str(sock), user="root" if os_user == "root" else os_user
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE app")
            cursor.execute(f"CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'")
            cursor.execute("GRANT ALL ON *.* TO 'app'@'127.0.0.1'")
        connection.commit()
    finally:
        connection.close()


@pytest.fixture(scope="session")
def redis() -> Iterator[Server]:
    """Redis with a password, persistence off, and KEYS disabled (so SCAN is enforced)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="redis-") as tmp:
        base = Path(tmp)
        port, log = free_port(), base / "log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(base),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--requirepass",
                    PASSWORD,
                    "--rename-command",
                    "KEYS",
                    "",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, process, log)
            url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
            yield Server("127.0.0.1", port, "", PASSWORD, "0", url)
        finally:
            _stop(process)
