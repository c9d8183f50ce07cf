"""pytest plugin (`-p tests.services`): PostgreSQL and Redis for the test session.

Loaded before Django settings are read. When DATABASE_URL / REDIS_URL are unset it starts the
embedded servers once per test session (xdist workers inherit the URLs) and stops them at exit.
"""

import atexit
import os

# Before importing crm: its Celery module would default DJANGO_SETTINGS_MODULE to crm.settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("SECRET_KEY", "tests-only-secret")

from crm import embedded

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright beside pytest-django's DB fixtures

if not os.environ.get("DATABASE_URL"):
    # CRM_TEST_DB lets parallel test sessions on one machine use separate databases.
    database = os.environ.get("CRM_TEST_DB", "crm")
    os.environ["DATABASE_URL"] = embedded.start_postgres(embedded.DATA_DIR / "test-pg", database, stop_at_exit=True)

if not os.environ.get("REDIS_URL"):
    _redis, os.environ["REDIS_URL"] = embedded.start_redis()
    atexit.register(_redis.terminate)
