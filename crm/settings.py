"""Project settings, read from the environment (django-environ).

Settings never start a process: the launcher (`python -m crm.launcher`) starts the embedded
PostgreSQL and Redis and passes their URLs in `DATABASE_URL` / `REDIS_URL`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-only-for-debug" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Served behind TLS (production). The launcher serves plain HTTP on 127.0.0.1 and sets HTTPS=0.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Our own apps, lowest first (DESIGN.md): the demo seeders run in this order.
LOCAL_APPS = ["crm", "contacts", "deals", "service", "marketing"]
INSTALLED_APPS = [
    *LOCAL_APPS,
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "import_export",
    "django_filters",
    "simple_history",
    "axes",
    "csp",
    "django_celery_beat",
    "health_check",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

# Widgets render through the project templates (templates/django/forms/ can override them).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.shell",
            ],
        },
    },
    {
        # Rows rendered by the dozen (crm/jinja2.py): templates in <app>/jinja2/<app>/.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "crm.jinja2.environment"},
    },
]

# Database: DATABASE_URL, e.g. postgres://user:pass@127.0.0.1:5432/crm
DATABASES = {"default": env.db_url("DATABASE_URL")}
# Persistent connections: a new connection per request costs ~8 ms (PLATFORM.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "crm.access.CachedPermissionsBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "crm:home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: 5 failures lock the (email, IP) pair for 15 minutes; never a permanent lockout.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login form field (it holds the e-mail)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "uk"
LANGUAGES = [("uk", _("Ukrainian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Kyiv"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Third-party front-end packages come from npm (package-lock.json) and are served as-is.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap/dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons/font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org/dist"),
    ("vendor/fullcalendar", NODE_MODULES / "fullcalendar"),
    ("vendor/fullcalendar-locales", NODE_MODULES / "@fullcalendar/core/locales"),
    ("vendor/sortablejs", NODE_MODULES / "sortablejs"),
    ("vendor/chartjs", NODE_MODULES / "chart.js/dist"),
]
MEDIA_URL = "/media/"
DATA_DIR = Path(env.str("CRM_DATA_DIR", default=str(BASE_DIR / ".data")))
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Content-Security-Policy: no inline scripts or styles anywhere (django-csp 4).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Celery: Redis broker; late acks, so every task must be idempotent (STYLE.md).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = timedelta(hours=1)
# One visibility timeout for the broker and the result backend: longer than the longest task,
# so a slow task is not redelivered to a second worker while the first still runs.
CELERY_VISIBILITY_TIMEOUT = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one beat schedule (STYLE.md); the database scheduler syncs it into django-celery-beat.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Every minute; a run that waited longer than a minute in the queue (workers down) is dropped,
    # the next one sends everything still due (marked late), so a backlog never piles up.
    "reminders-send-due": {
        "task": "contacts.tasks.reminders_send_due_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "assignments-notify-overdue": {
        "task": "contacts.tasks.assignments_notify_overdue_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # 08:00 in CELERY_TIMEZONE (Europe/Kyiv); BirthdayNotice makes a second run (or beat) a no-op.
    "birthdays-notify": {"task": "contacts.tasks.birthdays_notify_task", "schedule": crontab(hour=8, minute=0)},
    # 08:10 Kyiv; Contract.expiry_notified_at makes a second run a no-op.
    "contracts-notify-expiring": {
        "task": "deals.tasks.contracts_notify_expiring_task",
        "schedule": crontab(hour=8, minute=10),
    },
}
CELERY_BEAT_SCHEDULE |= {
    # Every 5 minutes; Ticket.escalated_at and Escalation(ticket, recipient) make a second run a no-op.
    "tickets-escalate": {"task": "service.tasks.tickets_escalate_task", "schedule": 300.0, "options": {"expires": 280}},
    # Every minute when SERVICE_IMAP_URL is set; InboundEmail's unique Message-ID makes a re-read a no-op.
    "service-mail-fetch": {"task": "service.tasks.mailbox_fetch_task", "schedule": 60.0, "options": {"expires": 55}},
    # Yesterday and today (Europe/Kyiv) into the service reports' daily rollups, every 30 minutes.
    "service-rollups": {"task": "service.tasks.rollups_compute_task", "schedule": 1800.0, "options": {"expires": 1700}},
    # Every 10 minutes: done calls of running phone campaigns make their members "responded" (idempotent).
    "marketing-call-results": {
        "task": "marketing.tasks_campaigns.campaign_call_results_sync_task",
        "schedule": 600.0,
        "options": {"expires": 590},
    },
    # Every 5 minutes: campaign sends whose worker died are queued again (a send without its cache lease).
    "marketing-sends-resume": {
        "task": "marketing.tasks_send.campaign_sends_resume_task",
        "schedule": 300.0,
        "options": {"expires": 280},
    },
    # 02:00 Europe/Kyiv, before the reports read them: every Attribution row recomputed (a rerun replaces them).
    "marketing-attribution": {
        "task": "marketing.tasks_reports.attribution_compute_task",
        "schedule": crontab(hour=2, minute=0),
    },
    # 02:30 Europe/Kyiv: the running and recently finished campaigns' effectiveness rollups (CampaignReport).
    "marketing-reports": {
        "task": "marketing.tasks_reports.campaign_reports_nightly_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Hourly: the lead-conversion rollup that /marketing/leads/conversion/ reads (a rerun replaces the rows).
    "marketing-conversion": {
        "task": "marketing.tasks_reports.conversion_rollup_task",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000},
    },
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every PDF's layout steps at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# Service desk (service/): the mailbox the CRM reads (imap[s]://user:password@host:port/INBOX, empty: off),
# the address clients write to and replies come from (replies go to <local>+<ticket>.<key>@<domain>),
# and the team new tickets go to.
SERVICE_IMAP_URL = env.str("SERVICE_IMAP_URL", default="")
SERVICE_EMAIL = env.str("SERVICE_EMAIL", default="support@example.com")
SERVICE_TEAM = env.str("SERVICE_TEAM", default="Сервіс")
# A reply to a closed ticket reopens it within this many days, otherwise it starts a new ticket.
SERVICE_REOPEN_DAYS = env.int("SERVICE_REOPEN_DAYS", default=14)
# Marketing attribution: a deal or order counts the campaign touches of its company this many days before it.
MARKETING_ATTRIBUTION_DAYS = env.int("MARKETING_ATTRIBUTION_DAYS", default=90)
# Posts per minute one IP may make to a public web form before it gets a 429.
MARKETING_FORM_RATE = env.int("MARKETING_FORM_RATE", default=5)
# A target group's export up to this many rows downloads at once; a bigger one is a background job.
MARKETING_EXPORT_INLINE_LIMIT = env.int("MARKETING_EXPORT_INLINE_LIMIT", default=10_000)
# Campaign e-mails: sender, the envelope sender that receives bounces (default: SERVICE_EMAIL, the mailbox the
# CRM reads), and whether a person needs a recorded e-mail consent to be written to.
MARKETING_FROM_EMAIL = env.str("MARKETING_FROM_EMAIL", default="")
MARKETING_BOUNCE_EMAIL = env.str("MARKETING_BOUNCE_EMAIL", default="")
MARKETING_REQUIRE_CONSENT = env.bool("MARKETING_REQUIRE_CONSENT", default=True)
# A send task works this many seconds over one SMTP connection, in batches of this many members, then
# re-queues itself (other tasks get the worker in between).
MARKETING_SEND_SLICE_SECONDS = env.float("MARKETING_SEND_SLICE_SECONDS", default=60.0)
MARKETING_SEND_BATCH = env.int("MARKETING_SEND_BATCH", default=50)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How often the bell in the navbar asks for the unread count (tests use a short interval).
BELL_POLL_SECONDS = env.int("BELL_POLL_SECONDS", default=60)
# The benchmark turns on its floor page and the per-response SQL query count header.
BENCH = env.bool("BENCH", default=False)
if BENCH:
    MIDDLEWARE.insert(0, "crm.middleware.QueryCountMiddleware")
