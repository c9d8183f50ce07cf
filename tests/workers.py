"""Real Celery worker processes for tests that need the broker (exactly-once, browser flows).

The workers run `tests.settings` against the test database (pytest-django's test_<name>, so the
test needs `transactional_db`) and this session's Redis, with eager mode off.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from crm.celery import app as celery_app


def test_database_url(application_name: str) -> str:
    """The session's DATABASE_URL pointed at the test database, naming the client in pg_stat_activity."""
    url = urlsplit(os.environ["DATABASE_URL"])
    query = "&".join(filter(None, [url.query, f"application_name={application_name}"]))
    return urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}", query=query))


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def start_worker(transactional_db):
    """`start_worker(name)` starts a worker (`test-worker-<name>` in pg_stat_activity) and returns its process;
    `start_worker.wait_ready(n)` waits until n workers answer a ping. All are stopped at the end."""
    processes: list[subprocess.Popen] = []
    celery_app.control.purge()

    def start(name: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": test_database_url(f"test-worker-{name}"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
        }
        command = [str(Path(sys.executable).parent / "celery"), "-A", "crm", "worker", "--pool=solo"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"]
        process = subprocess.Popen([*command, "-n", f"{name}-{os.getpid()}@%h"], cwd=settings.BASE_DIR, env=env)
        processes.append(process)
        return process

    def wait_ready(count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(celery_app.control.ping(timeout=0.5)) < count:
            assert time.monotonic() < deadline, "workers did not answer ping"

    start.wait_ready = wait_ready
    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a test may have stopped it
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    celery_app.control.purge()
