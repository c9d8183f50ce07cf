"""Real mail servers for tests: an SMTP sink (aiosmtpd) and an IMAP server (Debian's Dovecot, `make test-deps`).

Import the fixtures into a conftest: `from tests.mailservers import dovecot, imap_server, smtp_sink  # noqa: F401`.

- `smtp_sink`: a list of the messages Django sent (`.raw` bytes, `.mail_from`, `.rcpt_tos`, `.message` parsed),
  with settings.EMAIL_BACKEND pointed at it.
- `imap_server`: a fresh mailbox user of the session's Dovecot, with `.url` (for settings.SERVICE_IMAP_URL),
  `.append(raw)` (IMAP APPEND) and `.uids()`.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import imaplib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
DOVECOT = Path("/usr/sbin/dovecot")
START_TIMEOUT = 20.0
USERS = 1000  # mailbox users of one test session (one per test that asks for `imap_server`)


def free_port() -> int:
    """A TCP port nothing listens on right now (also the "server is down" address of tests)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Poll until `port` accepts a connection; fail early when the server process exits."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        if process is not None and process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"nothing listens on {HOST}:{port} after {START_TIMEOUT:g} s: {_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""


# --- SMTP ----------------------------------------------------------------------------------------------------


@dataclass
class SentMail:
    raw: bytes
    mail_from: str
    rcpt_tos: list[str]

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]  # policy.default


class _Collector:
    def __init__(self) -> None:
        self.messages: list[SentMail] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(SentMail(bytes(envelope.content), envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


@pytest.fixture
def smtp_sink(settings) -> Iterator[list[SentMail]]:
    """An SMTP server on 127.0.0.1 that keeps what it receives; Django's SMTP backend sends to it (no TLS)."""
    collector = _Collector()
    controller = Controller(collector, hostname=HOST, port=free_port())
    controller.start()  # returns once the server answers
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = HOST, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield collector.messages
    finally:
        controller.stop()


# --- IMAP ----------------------------------------------------------------------------------------------------


@dataclass
class ImapServer:
    """One mailbox user of the test Dovecot."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)

    @property
    def url(self) -> str:
        return f"imap://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{self.host}:{self.port}/INBOX"

    @contextlib.contextmanager
    def connect(self) -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """IMAP APPEND one message; returns its UID."""
        with self.connect() as imap:
            status, data = imap.append(folder, None, None, raw)
        assert status == "OK", data
        match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        return int(match[1]) if match else 0

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.connect() as imap:
            imap.select(folder, readonly=True)
            _status, data = imap.uid("SEARCH", None, "ALL")
        return [int(uid) for uid in data[0].split()]


class Dovecot:
    """A throwaway Dovecot (imap only, plaintext auth, no SSL) in a temporary directory on a free port.

    As root, Dovecot refuses mail access as root: mail is stored as the unprivileged `dovecot` user (or
    `nobody`), and its login processes run as `dovenull`; as another user everything runs as that user.
    """

    def __init__(self) -> None:
        if not os.access(DOVECOT, os.X_OK):
            pytest.fail(f"{DOVECOT} is missing: run `make test-deps` (apt-get install dovecot-imapd)")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
        self.dir.chmod(0o711)  # the mail user traverses it to its maildir
        # Every mailbox user is written before the start: Dovecot notices a changed passwd-file only after a
        # while, so users added later could fail to log in for a few seconds.
        self.users = self.dir / "users"
        accounts = [(f"desk{n}", f"p@ss/{secrets.token_hex(4)}%?#") for n in range(1, USERS + 1)]
        self.users.write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::{self.dir}/mail/{user}::\n" for user, password in accounts)
        )
        self._accounts = iter(accounts)
        self.log = self.dir / "dovecot.log"
        self.config = self.dir / "dovecot.conf"
        mail_root = self.dir / "mail"
        mail_root.mkdir()
        if os.geteuid() == 0:
            internal = _existing_user("dovecot", "nobody")
            login = _existing_user("dovenull", internal)
            mail = pwd.getpwnam(internal)
            os.chown(mail_root, mail.pw_uid, mail.pw_gid)
            privileges = (
                f"mail_uid = {mail.pw_uid}\nmail_gid = {mail.pw_gid}\n"
                f"first_valid_uid = {mail.pw_uid}\nfirst_valid_gid = {mail.pw_gid}\n"
            )
        else:
            internal = login = getpass.getuser()
            privileges = ""
        self.config.write_text(
            f"""protocols = imap
listen = {HOST}
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
info_log_path = {self.log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
{privileges}mail_location = maildir:{mail_root}/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.users}
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
  # No growing delay after failed logins from 127.0.0.1 (a test logs in with a wrong password on purpose).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
        )
        self._output = self.log.open("ab")
        self.process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(self.config)], stdout=self._output, stderr=subprocess.STDOUT
        )
        atexit.register(self.stop)  # even when the session does not get to its teardown
        wait_for_port(self.port, process=self.process, log=self.log)

    def add_user(self) -> ImapServer:
        """The next unused mailbox user; its password has URL-special characters."""
        user, password = next(self._accounts)
        return ImapServer(HOST, self.port, user, password)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._output.close()
        atexit.unregister(self.stop)
        shutil.rmtree(self.dir, ignore_errors=True)


def _existing_user(*names: str) -> str:
    for name in names:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise LookupError(names)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_server(dovecot: Dovecot) -> ImapServer:
    """A mailbox of its own for each test (nothing to purge), on the session's Dovecot."""
    return dovecot.add_user()
