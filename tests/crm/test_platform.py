"""Settings, health endpoint and a real Celery worker."""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from crm.celery import app as celery_app

BASE_DIR = Path(settings.BASE_DIR)


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    full_env.update(DJANGO_SETTINGS_MODULE="crm.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_is_clean_with_production_values():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="crm.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_refuse_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "crm.settings", "DEBUG": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_settings_read_the_environment():
    assert settings.TIME_ZONE == "Europe/Kyiv"
    assert settings.LANGUAGE_CODE == "uk"
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert settings.CELERY_TASK_ACKS_LATE
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        == settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["visibility_timeout"]
    )


@pytest.fixture(scope="module")
def celery_worker_process():
    """A real worker process on the test session's Redis."""
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "crm",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    deadline = time.monotonic() + 30
    while not celery_app.control.ping(timeout=0.5):
        assert process.poll() is None, "worker exited"
        assert time.monotonic() < deadline, "worker did not answer ping"
    yield process
    process.terminate()
    process.wait(timeout=20)


def test_task_round_trips_through_a_real_worker(celery_worker_process):
    # send_task goes through the broker even though the test settings run .delay() eagerly.
    result = celery_app.send_task("crm.tasks.ping")
    assert result.get(timeout=20) == "pong"


@pytest.mark.django_db
def test_health_is_200_when_everything_is_up(client, celery_worker_process):
    response = client.get(reverse("health"), headers={"Accept": "application/json"})
    assert response.status_code == 200, response.content
    assert set(response.json().values()) == {"OK"}


@pytest.mark.django_db
def test_health_is_503_naming_the_broken_part(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("health"), headers={"Accept": "application/json"})
    assert response.status_code == 503
    failing = {name: status for name, status in response.json().items() if status != "OK"}
    assert any("Redis" in name for name in failing), failing
