"""A PostgreSQL server of the test's own, for faults the shared server must never suffer.

The machine's server on 127.0.0.1:5432 is shared by every helper and must stay up; a test that
needs the database to *go away* (stopped mid-burst, then started again) gets its own: a fresh
cluster (``initdb``) in a temporary directory, listening on 127.0.0.1 on a spare port, started
and stopped with ``pg_ctl``. initdb refuses to run as root, so as root the cluster belongs to
the ``postgres`` system user (``runuser``). When no binaries are found, or the server does not
start, the test is skipped saying why.

``private_postgres`` (fixture): a running :class:`PrivateServer` with one migrated database;
``.url``, ``.stop()`` (fast shutdown: clients see their connections closed), ``.start()``
(same port, same data), torn down (and its directory removed) after the test.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections (-t)


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    for pg_ctl in found:
        bindir = Path(pg_ctl).parent
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    which = shutil.which("pg_ctl")
    if which and shutil.which("initdb"):
        return Path(which).resolve().parent
    return None


def _spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateServer:
    def __init__(self, bindir: Path, root: Path, user: str | None) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.user = user  # run the binaries as this user (we are root), or as ourselves
        self.port = _spare_port()
        self.database = "otwarta"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(
            command, check=check, capture_output=True, text=True, timeout=_START_TIMEOUT + 30
        )

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 60\nshared_buffers = 16MB\n"
            )

    def start(self) -> None:
        """Start (again), on the same port; returns once it accepts connections."""
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
            "-t", str(_START_TIMEOUT), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop it: ``fast`` closes every client's connection, as a crashed server would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def create_database(self) -> None:
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q",
            "-c", f'CREATE DATABASE "{self.database}"',
        )  # fmt: skip

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_private_server() -> PrivateServer:
    """A new, running server with an empty database; raises :class:`RuntimeError` saying why
    it cannot."""
    bindir = _binaries()
    if bindir is None:
        raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql")
    user: str | None = None
    root = Path(tempfile.mkdtemp(prefix="otwarta-pg-"))
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError("running as root and no 'postgres' user to run initdb") from None
        if shutil.which("runuser") is None:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError("running as root and no runuser to drop privileges for initdb")
        user = entry.pw_name
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chmod(root, 0o700)
    server = PrivateServer(bindir, root, user)
    try:
        server.init()
        server.start()
        server.create_database()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", None) or ""
        log = server.log.read_text(errors="replace")[-500:] if server.log.exists() else ""
        server.remove()
        raise RuntimeError(f"could not start a private PostgreSQL: {exc} {detail} {log}") from exc
    return server


@pytest.fixture
def private_postgres() -> Iterator[PrivateServer]:
    """A PostgreSQL server of this test's own, with a migrated database (see the module)."""
    from bot.db.migrate import upgrade_async
    from tests.conftest import run_in_thread

    try:
        server = start_private_server()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        run_in_thread(lambda: upgrade_async(server.url))
        yield server
    finally:
        server.remove()
