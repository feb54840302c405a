"""Settings for the dealership coordination portal.

Every knob is an environment variable read here, once. `.env.example` and the
README document each of them. With no environment at all the portal runs
embedded: SQLite, local-memory cache, Celery tasks executed eagerly in-process
and e-mail printed to the console — that is what `make run` relies on.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "csp",
    "dealership",
    "accounts",
    "customers",
    "repairs",
    "feedback",
    "events",
    "goals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Refuses an oversized body (413) or a NUL in any input (400) with a page
    # instead of a 500. Before SessionMiddleware, which must not see a cookie
    # with a NUL, and so before CsrfViewMiddleware, the first to read the body.
    "dealership.middleware.RequestInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # An unchanged htmx refresh of a polled screen gets its 304 here, from the
    # session and the version tokens in the cache: nothing below runs for it.
    "dealership.middleware.PolledScreenMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in pages are personal: `Cache-Control: private, no-store` unless
    # the view set its own (the polled screens do, with their ETags).
    "dealership.middleware.PrivatePagesMiddleware",
    # Replaces LocaleMiddleware: the signed-in user's saved language wins, then
    # the visitor's explicit choice (cookie), then Japanese. Browser
    # Accept-Language is ignored on purpose: the dealership works in Japanese.
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "dealership.urls"
WSGI_APPLICATION = "dealership.wsgi.application"

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
                "csp.context_processors.nonce",
                "dealership.context_processors.portal",
            ],
        },
    },
]

# An empty DATABASE_URL means the embedded default, like an unset one.
DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is the embedded default: WAL keeps `make run` responsive while the
    # demo seeds, and persistent connections are pointless for a local file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "dealership.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="dealership"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from the cache (Redis in production) and written through to
# the database: a polled refresh reads its session without a query, and a
# Redis restart signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.BranchAwareModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: e-mail login only, no public signup (the adapter closes it),
# rate-limited failures (allauth keeps the counters in the default cache).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Staff are invited, not enrolled: a reset for an unknown address sends nothing
# (an "unknown account" mail would let anyone probe who works here).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Failed sign-ins are limited strictly per account (the login address) and
# generously per client address, because a whole showroom shares one address.
# The counters live in the default cache: Redis, shared by every worker, when
# REDIS_URL is set; per process otherwise (the embedded mode has one).
LOGIN_FAILURES_PER_5_MINUTES = env.int("LOGIN_FAILURES_PER_5_MINUTES", default=5)
LOGIN_FAILURES_PER_IP_PER_MINUTE = env.int("LOGIN_FAILURES_PER_IP_PER_MINUTE", default=20)
# The client address allauth counts is read from X-Forwarded-For through this
# many trusted proxies (1 behind the compose reverse proxy). 0 ignores the
# header, so nobody can forge their way around the per-address limit.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"{LOGIN_FAILURES_PER_IP_PER_MINUTE}/m/ip,{LOGIN_FAILURES_PER_5_MINUTES}/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Dealership Portal")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Tokyo")
USE_I18N = True
USE_TZ = True

# Request size. A message carries at most four 10 MB photos and a few form
# fields: a body larger than MAX_REQUEST_BYTES is refused (413) from its
# Content-Length before any of it is read or written to disk; the compose
# reverse proxy enforces the same cap. Form fields other than files may take
# 2 MB in memory; uploads larger than 2.5 MB are streamed to a temporary file.
MAX_REQUEST_BYTES = env.int("MAX_UPLOAD_MB", default=45) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 20

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and `make run` serve static files straight from the app folders.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Dealership Portal <portal@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)

# Customer surveys (feedback/): hours after delivery before the customer is
# asked, days a survey link stays valid, and survey page requests allowed per
# minute from one client address (the pages are public).
# The delay may be a fraction: `make run` asks after about a minute (0.02 h) so
# a hand-over in the demo reaches its survey e-mail while one watches.
SURVEY_DELAY_HOURS = env.float("SURVEY_DELAY_HOURS", default=24)
SURVEY_VALID_DAYS = env.int("SURVEY_VALID_DAYS", default=30)
SURVEY_REQUESTS_PER_MINUTE = env.int("SURVEY_REQUESTS_PER_MINUTE", default=30)

# Approvals and status links (repairs): an undecided customer approval alerts the
# sales owner and the advisor again after this many minutes (once); the
# customer's status link works until this many days after delivery; the
# public status page answers this many requests per minute per address.
APPROVAL_REMINDER_MINUTES = env.int("APPROVAL_REMINDER_MINUTES", default=120)
STATUS_LINK_DAYS_AFTER_DELIVERY = env.int("STATUS_LINK_DAYS_AFTER_DELIVERY", default=14)
STATUS_PAGE_REQUESTS_PER_MINUTE = env.int("STATUS_PAGE_REQUESTS_PER_MINUTE", default=30)

# Celery. With REDIS_URL the broker is Redis; without it tasks run eagerly
# in-process so the embedded `make run` needs no services at all.
# Eager mode still opens a producer on the broker to serialise a task's
# arguments; kombu warns ("No hostname was supplied…") about a memory URL
# without a host, so the in-process default names one.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL and env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Reliability settings from DESIGN.md: a task is acknowledged only after it
# ran, a worker that dies mid-task gives it back, and each worker process
# holds one message at a time so nothing waits behind a slow send.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
# The one place periodic work is declared. Each entry is a thin task.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "sweep-pending-notifications": {
        "task": "dealership.tasks.sweep_pending_notifications",
        "schedule": 60.0,
    },
    "alert-jobs-at-risk": {
        "task": "repairs.tasks.alert_jobs_at_risk",
        "schedule": 300.0,
    },
    "send-event-reminders": {
        "task": "events.tasks.send_event_reminders",
        "schedule": 3600.0,
    },
    # Daily at 00:20 local time: the trend charts' KPI snapshots (recent days recomputed).
    "take-kpi-snapshots": {
        "task": "goals.tasks.take_kpi_snapshots",
        "schedule": crontab(hour=0, minute=20),
    },
    # Every 15 minutes, or a quarter of the survey delay when that is shorter
    # (the demo's minute): an invitation is never much later than its delay.
    "invite-delivered-jobs-to-survey": {
        "task": "feedback.tasks.invite_delivered_jobs",
        "schedule": min(900.0, max(15.0, SURVEY_DELAY_HOURS * 3600 / 4)),
    },
    "sweep-pending-survey-emails": {
        "task": "feedback.tasks.sweep_pending_survey_emails",
        "schedule": 60.0,
    },
    "remind-undecided-approvals": {
        "task": "repairs.tasks.remind_undecided_approvals",
        "schedule": 300.0,
    },
}

# Content-Security-Policy: on in every mode, so a violation shows up in
# development and in the browser tests. No inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": ["'none'"],
        "base-uri": [SELF],
        "object-src": ["'none'"],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    # Production hardening: HTTPS only, behind a TLS-terminating proxy.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Secure cookies unless SECURE_COOKIES=0: only `make run`'s plain-HTTP
    # demo on 127.0.0.1 turns them off (some browsers drop Secure cookies there).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Eager (embedded) mode would print a line per task run inside requests.
    "loggers": {"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {},
}

# E-mail delivery of notifications (dealership/tasks.py).
EMAIL_RETRY_BASE_SECONDS = env.int("EMAIL_RETRY_BASE_SECONDS", default=30)
EMAIL_CLAIM_TIMEOUT_SECONDS = env.int("EMAIL_CLAIM_TIMEOUT_SECONDS", default=600)
EMAIL_SWEEP_GRACE_SECONDS = env.int("EMAIL_SWEEP_GRACE_SECONDS", default=30)
# Publishing to a dead broker must fail fast: the user's change has already
# committed and the sweeper will enqueue the e-mail once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2

# The workshop board's cards are rendered once per change of the branch and
# shared, through the cache, by everyone watching that board (repairs/board.py);
# each viewer adds only their unread badges. `make bench` turns it off to
# measure the render itself; `make bench-capacity` runs with it, as production does.
SHARED_BOARD = env.bool("SHARED_BOARD", default=True)

# `make bench` only: exposes /bench/floor/ and /bench/bare-floor/, the trivial
# views the benchmark measures every screen against (dealership/bench_views.py).
BENCHMARK_VIEWS = env.bool("BENCHMARK_VIEWS", default=False)
