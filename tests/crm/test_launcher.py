"""The one-command launcher (`python -m crm.launcher`), run as a real process on a fresh data dir.

The launcher starts its own embedded PostgreSQL and Redis there (not the test session's servers),
gunicorn, a Celery worker and beat. The first run's facts are gathered once by a module fixture; the
other tests start it again on the same data.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crm import embedded
from crm.seeding import DEMO_PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]
# Set by the test session for its own servers and settings: the launcher must decide these itself.
SESSION_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "HTTPS",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "PORT",
    "MEDIA_ROOT",
    "XDG_RUNTIME_DIR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "CRM_DATA_DIR",
}
# A hang guard, not a speed check: a first start migrates an empty database (~20 s idle) and the
# machine may be busy with other test runs. The launcher itself gives its servers 10 s to stop.
START_TIMEOUT = 300
STOP_TIMEOUT = 30
NUL = b"\0"
READY = "Press Ctrl+C to stop."
# No proxies: requests go to 127.0.0.1.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def launcher_env(data_dir: Path, port: int | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SESSION_VARIABLES}
    env["CRM_DATA_DIR"] = str(data_dir)
    env["PORT"] = str(port or embedded.free_port())
    env.update(extra)
    return env


def http_status(url: str) -> int:
    try:
        with HTTP.open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def log_in(base_url: str, email: str, password: str) -> str:
    """Log in through the real login form over plain HTTP; return the URL the browser ends on."""
    browser = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login_url = f"{base_url}accounts/login/"
    with browser.open(login_url, timeout=10) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode())
    assert token, "no CSRF token on the login page"
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "username": email, "password": password})
    request = urllib.request.Request(login_url, data=form.encode(), headers={"Referer": login_url})
    with browser.open(request, timeout=10) as response:
        return response.url


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def processes_of(data_dir: Path, *, grace: float = 3) -> list[str]:
    """Live processes that mention `data_dir` in their command line or CRM_DATA_DIR, after `grace` s.

    Every process the launcher starts inherits CRM_DATA_DIR, and the embedded PostgreSQL has the
    data dir in its command line. The grace period lets SIGKILLed processes finish dying.
    """
    marker = str(data_dir).encode()
    env_marker = b"CRM_DATA_DIR=" + marker
    deadline = time.monotonic() + grace
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid() or not pid_alive(int(proc.name)):
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes()
                environ = (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in cmdline or env_marker in environ:
                found.append(f"{proc.name}: {cmdline.replace(NUL, b' ').decode(errors='replace')}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


class Launcher:
    """A running `python -m crm.launcher`, its output collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crm.launcher"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                self._reader.join(5)
                if text in self.output:
                    return
                pytest.fail(f"launcher exited with {self.process.returncode} before {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout} s:\n{self.output}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        match = re.search(r"CRM is running at (http://127\.0\.0\.1:\d+/)", self.output)
        assert match, self.output
        return match.group(1)

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT) -> int:
        """Send `sig` to the launcher alone (like Ctrl+C) and return its exit code."""
        self.process.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"launcher still running after {timeout} s:\n{self.output}")
        self._reader.join(5)
        return code

    def kill(self) -> None:
        """Clean up after a failed test: ask nicely, then force."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("launcher")
    yield path
    # Safety net for failed tests only (the tests themselves assert that nothing is left).
    embedded.stop_postgres(path / "pg")
    for line in processes_of(path, grace=0):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


@pytest.fixture
def launchers():
    """Launchers started by a test; stopped at the end whatever happened."""
    started: list[Launcher] = []

    def start(env: dict[str, str]) -> Launcher:
        started.append(Launcher(env))
        return started[-1]

    yield start
    for launcher in started:
        launcher.kill()


@dataclass
class FirstRun:
    output: str = ""
    exit_code: int | None = None
    state: dict = field(default_factory=dict)
    login_status: int = 0
    health_status: int = 0
    pid_file_left: bool = True
    orphans: list[str] = field(default_factory=list)
    secret_key: str = ""


@pytest.fixture(scope="module")
def first_run(data_dir) -> FirstRun:
    """Start on an empty data dir, use it, Ctrl+C it, and record what happened."""
    facts = FirstRun()
    launcher = Launcher(launcher_env(data_dir))
    try:
        launcher.wait_for(READY)
        facts.state = json.loads((data_dir / "launcher.json").read_text())
        facts.login_status = http_status(f"{launcher.url}accounts/login/")
        deadline = time.monotonic() + 60  # the worker answers Celery pings a moment after the web server
        while (status := http_status(f"{launcher.url}health/")) != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        facts.health_status = status
        facts.exit_code = launcher.stop(signal.SIGINT)
    finally:
        launcher.kill()
    facts.output = launcher.output
    facts.pid_file_left = (data_dir / "launcher.json").exists()
    facts.orphans = processes_of(data_dir)
    facts.secret_key = (data_dir / "secret_key").read_text()
    return facts


def test_first_run_seeds_serves_and_stops_without_orphans(first_run, data_dir):
    assert "Loading demo data" in first_run.output
    assert re.search(r"CRM is running at http://127\.0\.0\.1:\d+/", first_run.output)
    assert "admin@example.com" in first_run.output
    assert "service.manager@example.com" in first_run.output
    assert f"password {DEMO_PASSWORD}" in first_run.output
    assert first_run.login_status == 200
    assert first_run.health_status == 200, first_run.output
    assert first_run.exit_code == 0, first_run.output

    assert first_run.state["pid"] > 0
    assert set(first_run.state["children"]) == {"redis", "web", "worker", "beat"}
    assert not [pid for pid in first_run.state["children"].values() if pid_alive(pid)]
    assert first_run.orphans == []
    assert not first_run.pid_file_left
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600


def test_second_run_reuses_data_and_moves_off_a_busy_port(first_run, data_dir, launchers):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        busy_port = busy.getsockname()[1]
        launcher = launchers(launcher_env(data_dir, busy_port))
        launcher.wait_for(READY)

        assert f"Port {busy_port} is busy; using " in launcher.output
        assert f":{busy_port}/" not in launcher.url
        assert http_status(f"{launcher.url}accounts/login/") == 200
        # The printed demo login works over plain HTTP (HTTPS=0: no secure-only cookies, no redirect).
        assert log_in(launcher.url, "admin@example.com", DEMO_PASSWORD) == launcher.url
    assert "Loading demo data" not in launcher.output
    assert "already has data" in launcher.output
    assert "admin@example.com" in launcher.output  # the demo logins still exist
    assert launcher.stop(signal.SIGTERM) == 0, launcher.output
    assert (data_dir / "secret_key").read_text() == first_run.secret_key
    assert processes_of(data_dir) == []


def test_recovers_from_a_killed_run_refuses_a_second_launcher_and_stops_when_a_child_dies(
    first_run, data_dir, launchers
):
    def dead_pid() -> int:
        process = subprocess.Popen([sys.executable, "-c", ""])
        process.wait()
        return process.pid

    # A killed run's leftovers: one that looks like ours (a "celery" process) and a pid that was
    # reused by something else, which must be left alone.
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(99)", "celery"], start_new_session=True)
    stranger = subprocess.Popen(["sleep", "99"], start_new_session=True)
    killed_launcher = dead_pid()
    children = {"worker": leftover.pid, "web": stranger.pid, "beat": dead_pid()}
    (data_dir / "launcher.json").write_text(json.dumps({"pid": killed_launcher, "children": children}))
    try:
        launcher = launchers(launcher_env(data_dir))
        launcher.wait_for(READY)
        assert f"Recovering from a previous run that did not stop cleanly (pid {killed_launcher})" in launcher.output
        assert leftover.wait(5) == -signal.SIGTERM
        assert stranger.poll() is None
        assert json.loads((data_dir / "launcher.json").read_text())["pid"] == launcher.process.pid

        second = launchers(launcher_env(data_dir))
        assert second.wait(60) == 1, second.output
        assert f"CRM is already running (pid {launcher.process.pid})" in second.output
        assert http_status(f"{launcher.url}accounts/login/") == 200  # the first one is untouched

        # A child that dies takes the whole CRM down, with exit code 1 and its name.
        os.kill(json.loads((data_dir / "launcher.json").read_text())["children"]["beat"], signal.SIGKILL)
        assert launcher.wait(STOP_TIMEOUT) == 1, launcher.output
        assert "The beat process exited unexpectedly" in launcher.output
        assert not (data_dir / "launcher.json").exists()
        assert processes_of(data_dir) == []
    finally:
        for process in (leftover, stranger):
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x", "DATABASE_URL is malformed"),
        ("DATABASE_URL", "postgres://u@127.0.0.1:1/db", "DATABASE_URL: cannot connect to 127.0.0.1:1/db"),
        ("REDIS_URL", "http://127.0.0.1:6379/0", "REDIS_URL is malformed"),
        ("REDIS_URL", "redis://127.0.0.1:1/0", "REDIS_URL: cannot connect to 127.0.0.1:1/0"),
    ],
)
def test_bad_url_exits_2_naming_the_variable(tmp_path, variable, value, message):
    result = subprocess.run(
        [sys.executable, "-m", "crm.launcher"],
        cwd=BASE_DIR,
        env=launcher_env(tmp_path, **{variable: value}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "launcher.json").exists()
    assert not (tmp_path / "pg").exists()  # nothing was started
