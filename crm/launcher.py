"""One command to run the whole CRM on this machine: `python -m crm.launcher` (`make run`).

Contract:
- `DATABASE_URL` / `REDIS_URL` are used when set (checked first: exit code 2 with a one-line message
  naming the variable when malformed or unreachable); otherwise the embedded PostgreSQL (data kept in
  `DATA_DIR/pg`) and an embedded Redis on a free port are started.
- The web server (gunicorn), a Celery worker and Celery beat run as child processes, each in its own
  session, so Ctrl+C on the terminal reaches only the launcher, which then stops them in order.
- `DATA_DIR/launcher.json` is the lock and the list of everything started: a second launcher on the
  same data exits 1; a run that was killed is recovered from at the next start.
- Exit codes: 0 after Ctrl+C / SIGTERM, 1 when something fails or a child dies, 2 on bad configuration.
- Variables the user set are never overridden.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from crm import embedded

BASE_DIR = embedded.BASE_DIR
BIN_DIR = Path(sys.executable).parent
DEMO_SIZE = "S"
DEFAULT_PORT = 8000
STOP_TIMEOUT = 10.0  # seconds a child gets between SIGTERM and SIGKILL
WEB_TIMEOUT = 90.0  # seconds for the web server to answer after it is started
STOP_ORDER = ("web", "beat", "worker")
# Words in the command line of a process we may have started: a recorded pid whose process does not
# match is a reused pid belonging to someone else and must not be killed.
OUR_COMMANDS = ("gunicorn", "celery", "valkey", "redis", "manage.py", "django.setup")
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
REDIS_SCHEMES = {"redis", "rediss"}
# Django-only keys of DATABASES["default"]["OPTIONS"] that are not libpq connection parameters.
DJANGO_DB_OPTIONS = {"pool", "server_side_binding", "isolation_level", "assume_role"}


class ConfigError(Exception):
    """Bad configuration given by the user: exit code 2."""


class LaunchError(Exception):
    """The CRM cannot start or stopped unexpectedly: exit code 1."""


class Stopped(Exception):
    """Ctrl+C or SIGTERM arrived: stop everything, exit code 0."""


@dataclass
class Child:
    name: str  # the key in launcher.json and in messages: "web", "worker", "beat", "redis"
    process: subprocess.Popen
    log: Path | None = None


# ---------------------------------------------------------------------------------------------
# Configuration checks (no side effects)


def check_database_url(url: str) -> None:
    """Raise ConfigError unless `url` is a PostgreSQL URL that accepts a connection within 5 s."""
    import environ
    import psycopg

    scheme = urlsplit(url).scheme
    if scheme not in POSTGRES_SCHEMES:
        raise ConfigError(f"DATABASE_URL is malformed: scheme {scheme or '(none)'!r} is not postgres://")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # django-environ warns before we can say it better
            config = environ.Env.db_url_config(url)
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL is malformed: {exc}") from exc
    # The same parameters Django's backend passes to psycopg: OPTIONS first, then the URL's parts.
    params = {k: v for k, v in config.get("OPTIONS", {}).items() if k not in DJANGO_DB_OPTIONS}
    for key, setting in (("dbname", "NAME"), ("user", "USER"), ("password", "PASSWORD"), ("host", "HOST")):
        if config.get(setting):
            params[key] = config[setting]
    if config.get("PORT"):
        params["port"] = str(config["PORT"])
    target = f"{params.get('host') or 'localhost'}:{params.get('port', 5432)}/{params.get('dbname', '')}"
    try:
        psycopg.connect(**params, connect_timeout=5).close()
    except psycopg.Error as exc:
        raise ConfigError(f"DATABASE_URL: cannot connect to {target}: {_one_line(exc)}") from exc


def check_redis_url(url: str) -> None:
    """Raise ConfigError unless `url` is a Redis URL that answers PING within 3 s."""
    import redis

    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError(f"REDIS_URL is malformed: scheme {parts.scheme or '(none)'!r} is not redis:// or rediss://")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        target = f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path}"
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL is malformed: {exc}") from exc
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"REDIS_URL: cannot connect to {target}: {_one_line(exc)}") from exc
    finally:
        client.close()


def read_port(value: str | None) -> int:
    """The PORT variable as a number (default 8000); ConfigError when it is not a TCP port."""
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT is malformed: {value!r} is not a TCP port number")
    return int(value)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Small process and file helpers


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:`port` can be bound (SO_REUSEADDR, as gunicorn does, so TIME_WAIT is free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def pid_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_group(pid: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group led by `pid` (children run in their own session), else to `pid`."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def stop_foreign(pids: Sequence[int], timeout: float = STOP_TIMEOUT) -> None:
    """Stop processes that are not our children (a previous run's): SIGTERM, wait, SIGKILL their groups."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        kill_group(pid, signal.SIGKILL)


def read_or_create_secret_key(path: Path) -> str:
    """The SECRET_KEY kept in `path` (mode 0600), generated on the first run so sessions survive restarts."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            path.chmod(0o600)
            return key
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    path.chmod(0o600)  # in case the file existed (empty) with a wider mode
    return key


def say(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The launcher


# Run in a child `python -c`: how many users exist and which demo logins do (English role labels).
_PROBE = """
import json, django
django.setup()
from django.utils import translation
from crm.models import User
from crm.seed import DEMO_USERS
from service.seed import SERVICE_MANAGER
with translation.override("en"):
    logins = [(email, str(role.label)) for email, _name, role, _team in DEMO_USERS]
    logins.append((SERVICE_MANAGER[0], "Service desk manager"))
present = set(User.objects.filter(email__in=[email for email, _role in logins]).values_list("email", flat=True))
demo = [[email, role, email in present] for email, role in logins]
print(json.dumps({"users": User.objects.count(), "demo": demo}))
"""


class Launcher:
    """Starts, watches and stops the CRM for one data directory; `run()` returns the exit code."""

    def __init__(self, data_dir: Path = embedded.DATA_DIR) -> None:
        self.data_dir = data_dir
        self.pid_file = data_dir / "launcher.json"
        self.log_dir = data_dir / "logs"
        self.pg_dir = data_dir / "pg"
        self.env: dict[str, str] = {}
        self.children: list[Child] = []  # started and not yet stopped, in start order
        self.step: subprocess.Popen | None = None  # the setup command running now
        self.embedded_postgres = False
        self.locked = False
        self.stop_signal: int | None = None

    # -- entry point ----------------------------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            self._check_environment()
            self._checkpoint()
            self._lock()
            self._start()
            self._watch()
        except ConfigError as exc:
            fail(str(exc))
            return 2
        except Stopped:
            return 0
        except LaunchError as exc:
            if self.stop_signal is not None:  # a failure caused by the stop itself (e.g. pg_ctl interrupted)
                return 0
            fail(str(exc))
            return 1
        finally:
            self._shutdown()
        return 0  # _watch only returns by raising; kept for the type checker

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only note it: raising here could leave a just-started process unrecorded. Every wait
        # loop calls _checkpoint() a few times a second.
        self.stop_signal = signum

    def _checkpoint(self) -> None:
        if self.stop_signal is not None:
            raise Stopped

    # -- 1. configuration -----------------------------------------------------------------------

    def _check_environment(self) -> None:
        """Validate the user's URLs and PORT before anything is started."""
        read_port(os.environ.get("PORT"))
        if os.environ.get("DATABASE_URL"):
            check_database_url(os.environ["DATABASE_URL"])
        if os.environ.get("REDIS_URL"):
            check_redis_url(os.environ["REDIS_URL"])

    # -- 2. lock and stale state ----------------------------------------------------------------

    def _lock(self) -> None:
        """Take launcher.json, or exit 1 if a live launcher holds it; clean up after a killed one."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "launcher.lock").open("w") as guard:
            # Two launchers starting at the same moment: the check and the take happen as one step.
            fcntl.flock(guard, fcntl.LOCK_EX)
            state = self._read_state()
            if state is not None:
                self._recover(state)
            self.locked = True
            self._write_state()

    def _recover(self, state: dict) -> None:
        """Refuse to start beside a live launcher; otherwise stop what a killed one left running."""
        pid = state.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and self._is_launcher(pid):
            raise LaunchError(
                f"CRM is already running (pid {pid}) on the data in {self.data_dir}. "
                f"Stop it with Ctrl+C in its terminal or `kill {pid}`."
            )
        say(
            f"Recovering from a previous run that did not stop cleanly (pid {pid or 'unknown'}): "
            "stopping its leftover processes."
        )
        children = state.get("children") or {}
        leftovers = [
            p
            for p in children.values()
            if isinstance(p, int) and pid_alive(p) and any(word in pid_cmdline(p) for word in OUR_COMMANDS)
        ]
        stop_foreign(leftovers)
        self.pid_file.unlink(missing_ok=True)
        # Its embedded PostgreSQL, if still up, is simply reused (and stopped by us at the end).

    def _read_state(self) -> dict | None:
        try:
            state = json.loads(self.pid_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: treat as a stale file with nothing recorded
        return state if isinstance(state, dict) else {}

    @staticmethod
    def _is_launcher(pid: int) -> bool:
        return pid_alive(pid) and "crm.launcher" in pid_cmdline(pid)

    def _write_state(self) -> None:
        """Record our pid and every child's pid; written atomically so a crash never leaves half a file."""
        children = {child.name: child.process.pid for child in self.children}
        if self.step is not None:
            children["setup"] = self.step.pid
        state = {"pid": os.getpid(), "data_dir": str(self.data_dir), "children": children}
        tmp = self.pid_file.with_name(f"launcher.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, self.pid_file)

    # -- 3. start -------------------------------------------------------------------------------

    def _start(self) -> None:
        self._checkpoint()
        self.log_dir.mkdir(exist_ok=True)
        self._prepare_env()
        self._checkpoint()
        port = self._pick_port()
        url = f"http://127.0.0.1:{port}/"
        self.env.setdefault("SITE_URL", url.rstrip("/"))

        say("Collecting static files…")
        self._run_step("collectstatic", ["manage.py", "collectstatic", "--noinput", "--verbosity", "0"])
        say("Applying database migrations…")
        self._run_step("migrate", ["manage.py", "migrate", "--noinput"])
        probe = json.loads(self._run_step("check data", ["-c", _PROBE], capture=True))
        if probe["users"] == 0:
            say(f"Loading demo data (size {DEMO_SIZE})…")
            self._run_step("seed_demo", ["manage.py", "seed_demo", "--size", DEMO_SIZE, "--no-progress"])
            demo = [(email, role) for email, role, _present in probe["demo"]]
        else:
            say(f"The database already has data ({probe['users']} users): not loading demo data.")
            demo = [(email, role) for email, role, present in probe["demo"] if present]

        say("Starting the web server, the Celery worker and Celery beat…")
        gunicorn, celery = str(BIN_DIR / "gunicorn"), str(BIN_DIR / "celery")
        web = ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--access-logfile", "-"]
        self._start_child("web", [gunicorn, "crm.wsgi:application", *web, *_gunicorn_extra_options()])
        self._start_child("worker", [celery, "-A", "crm", "worker", "--loglevel=INFO", "--concurrency=2"])
        self._start_child("beat", [celery, "-A", "crm", "beat", "--loglevel=INFO"])
        self._wait_for_web(f"{url}accounts/login/")
        self._banner(url, demo)

    def _prepare_env(self) -> None:
        """Build the children's environment; start the embedded servers for URLs the user did not give."""
        env = dict(os.environ)
        if not env.get("DATABASE_URL"):
            say(f"Starting the embedded PostgreSQL (data in {self.pg_dir})…")
            self.embedded_postgres = True  # set first: stop it even if starting is interrupted
            try:
                env["DATABASE_URL"] = embedded.start_postgres(self.pg_dir, "crm")
            except Exception as exc:
                raise LaunchError(
                    f"The embedded PostgreSQL did not start: {_one_line(exc)} (log: {self.pg_dir / 'log'})"
                ) from exc
        self._checkpoint()
        if not env.get("REDIS_URL"):
            say("Starting the embedded Redis…")
            try:
                process, env["REDIS_URL"] = embedded.start_redis()
            except Exception as exc:
                raise LaunchError(f"The embedded Redis did not start: {_one_line(exc)}") from exc
            self.children.append(Child("redis", process))
            self._write_state()
        if not env.get("SECRET_KEY"):
            env["SECRET_KEY"] = read_or_create_secret_key(self.data_dir / "secret_key")
        env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
        env.setdefault("DEBUG", "0")
        env.setdefault("HTTPS", "0")  # plain HTTP on 127.0.0.1: no secure-only cookies, no SSL redirect
        env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
        env.setdefault("MEDIA_ROOT", str(self.data_dir / "media"))
        env.setdefault("PYTHONUNBUFFERED", "1")  # log lines appear in the log files as they happen
        self.env = env

    def _pick_port(self) -> int:
        port = read_port(os.environ.get("PORT"))
        if not port_is_free(port):
            busy, port = port, embedded.free_port()
            say(f"Port {busy} is busy; using {port}.")
        return port

    def _run_step(self, name: str, args: list[str], *, capture: bool = False) -> str:
        """Run `python <args>` to completion (stderr to logs/setup.log); return its stdout if `capture`.

        Runs in its own session like the servers, so Ctrl+C stops it through us, not behind our back.
        """
        log_path = self.log_dir / "setup.log"
        with log_path.open("a") as log, tempfile.TemporaryFile("w+") as out:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {name}\n")
            log.flush()
            self.step = subprocess.Popen(
                [sys.executable, *args],
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out if capture else log,
                stderr=log,
                start_new_session=True,
            )
            self._write_state()
            try:
                while (code := self._wait(self.step, 0.2)) is None:
                    self._checkpoint()
            finally:
                if self.step.poll() is None:  # interrupted: give it a moment to roll back, then kill
                    _send(self.step, signal.SIGTERM)
                    if self._wait(self.step, 5) is None:
                        kill_group(self.step.pid, signal.SIGKILL)
                        self.step.wait()
                self.step = None
                self._write_state()
            if code != 0:
                raise LaunchError(f"`{name}` failed (exit code {code}):\n{_tail(log_path)}\nFull log: {log_path}")
            out.seek(0)
            return out.read()

    @staticmethod
    def _wait(process: subprocess.Popen, timeout: float) -> int | None:
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def _start_child(self, name: str, command: list[str]) -> None:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("a") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} started by crm.launcher\n")
            log.flush()
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C on the terminal must not reach it: we stop it in order
            )
        self.children.append(Child(name, process, log_path))
        self._write_state()

    def _wait_for_web(self, login_url: str) -> None:
        """Poll the login page until it answers 200, while watching that every child still runs."""
        # No proxies: an http_proxy variable must not swallow requests to 127.0.0.1.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + WEB_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            self._checkpoint()
            self._check_children()
            try:
                with opener.open(login_url, timeout=5) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:  # e.g. 400 when ALLOWED_HOSTS leaves out 127.0.0.1
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise LaunchError(
            f"The web server did not answer {login_url} with 200 within {WEB_TIMEOUT:.0f} s ({last}); "
            f"see {self.log_dir / 'web.log'}"
        )

    def _banner(self, url: str, demo: list[tuple[str, str]]) -> None:
        from crm.seeding import DEMO_PASSWORD  # plain constants: no Django set-up needed

        lines = [
            "",
            f"CRM is running at {url}",
            f"  Admin: {url}admin/",
            f"  Logs:  {self.log_dir}/ (web.log, worker.log, beat.log, setup.log)",
        ]
        if demo:
            lines.append(f"  Demo logins (password {DEMO_PASSWORD}, unless changed since):")
            width = max(len(role) for _email, role in demo)
            lines += [f"    {role:<{width}}  {email}" for email, role in demo]
        lines += ["Press Ctrl+C to stop.", ""]
        say("\n".join(lines))

    # -- 4. watch and stop ----------------------------------------------------------------------

    def _watch(self) -> None:
        """Sleep until a signal (raises Stopped) or a child dies (raises LaunchError)."""
        while True:
            self._checkpoint()
            self._check_children()
            time.sleep(0.5)

    def _check_children(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                tail = f"\nLast lines of {child.log}:\n{_tail(child.log)}" if child.log else ""
                raise LaunchError(f"The {child.name} process exited unexpectedly (exit code {code}); stopping.{tail}")

    def _shutdown(self) -> None:
        """Stop everything we started, newest first, and release the lock. Safe to call at any point."""
        # A second Ctrl+C must not interrupt the clean-up: the waits below are bounded anyway.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        if self.children or self.embedded_postgres:
            say("Stopping the CRM…")
        # Web first (no new requests), then beat (no new scheduled tasks), then the worker (lets
        # running tasks finish); they share one 10 s allowance. SIGTERM goes to each leader, which
        # stops its own worker processes. Redis goes last: the others need it until they are down.
        servers = sorted((c for c in self.children if c.name != "redis"), key=lambda c: STOP_ORDER.index(c.name))
        for child in servers:
            _send(child.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in servers:
            self._reap(child, deadline)
        for child in [c for c in self.children if c.name == "redis"]:
            _send(child.process, signal.SIGTERM)
            self._reap(child, time.monotonic() + STOP_TIMEOUT)
        self.children.clear()
        if self.embedded_postgres:
            try:
                embedded.stop_postgres(self.pg_dir)
            except Exception as exc:
                fail(f"Could not stop the embedded PostgreSQL: {_one_line(exc)}")
        if self.locked:
            self.pid_file.unlink(missing_ok=True)
            self.locked = False
        if self.stop_signal is not None:
            say("Stopped.")

    @staticmethod
    def _reap(child: Child, deadline: float) -> None:
        """Wait for `child` until `deadline`, then SIGKILL whatever is left of its process group."""
        if Launcher._wait(child.process, max(deadline - time.monotonic(), 0.01)) is None:
            fail(f"The {child.name} process did not stop within {STOP_TIMEOUT:.0f} s; killing it.")
        # Also after a clean exit: a worker process that outlived its master is still in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()


def _send(process: subprocess.Popen, sig: signal.Signals) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)


def _gunicorn_extra_options() -> list[str]:
    import gunicorn

    # gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl: one path per user, which
    # two launchers (two data dirs, or the test suite beside `make run`) would fight over.
    return ["--no-control-socket"] if gunicorn.version_info >= (27,) else []


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main() -> None:
    sys.exit(Launcher().run())


if __name__ == "__main__":
    main()
