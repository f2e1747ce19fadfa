"""Orion's settings, read from `ORION_`-prefixed environment variables and `.env`.

`.env.example` lists every variable with what it does.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


def next_redis_db(url: str) -> str:
    """The same Redis server, one database number up (redis://h:6379/0 -> /1)."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + 1
    return urlunsplit(parts._replace(path=f"/{number}"))


DEV_SECRET_KEY = "orion-development-key-do-not-use-in-production"

env = environ.FileAwareEnv(
    ORION_DEBUG=(bool, False),
    ORION_ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    ORION_CSRF_TRUSTED_ORIGINS=(list, []),
    ORION_SECRET_KEY=(str, DEV_SECRET_KEY),
    ORION_SECRETS_KEY=(str, ""),
    ORION_DATABASE_URL=(str, "sqlite:///./orion.db"),
    ORION_BROKER=(str, "orm"),
    ORION_EMAIL_URL=(str, "consolemail://"),
    ORION_DEFAULT_FROM_EMAIL=(str, "orion@localhost"),
    ORION_SENTRY_DSN=(str, ""),
    ORION_SENTRY_ENVIRONMENT=(str, "production"),
    ORION_LOG_LEVEL=(str, "INFO"),
    ORION_LANGUAGE_CODE=(str, "en"),
    ORION_TIME_ZONE=(str, "UTC"),
    ORION_WORKERS=(int, 4),
    ORION_SEND_TIMEOUT=(int, 60),
    ORION_ALLOW_PRIVATE_DESTINATIONS=(bool, False),
    ORION_STATIC_ROOT=(str, ""),
    ORION_CACHE_URL=(str, ""),
    ORION_PROVIDER_RATE_LIMITS=(bool, True),
    ORION_MAX_ATTEMPTS=(int, 8),
    ORION_RETRY_BASE_SECONDS=(float, 5.0),
    ORION_RETRY_MAX_SECONDS=(float, 3600.0),
    ORION_LEASE_SECONDS=(int, 120),
    ORION_QUEUED_RESCUE_SECONDS=(int, 120),
    ORION_DISPATCH_INTERVAL=(float, 0.5),
    ORION_API_THROTTLE_RATE=(str, "6000/min"),
)
# ORION_ENV_FILE names another file (the test suite uses none).
environ.Env.read_env(
    os.environ.get("ORION_ENV_FILE", str(BASE_DIR / ".env")), overwrite=False
)

SECRET_KEY = env("ORION_SECRET_KEY")
# Channel secrets are encrypted with this key; it defaults to one derived from
# SECRET_KEY, so set it explicitly if SECRET_KEY may ever be rotated.
ORION_SECRETS_KEY = env("ORION_SECRETS_KEY")
DEBUG = env("ORION_DEBUG")
ALLOWED_HOSTS = env("ORION_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("ORION_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_q",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "orion.urls"
WSGI_APPLICATION = "orion.wsgi.application"
ASGI_APPLICATION = "orion.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("ORION_DATABASE_URL")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several worker processes write at once: WAL lets readers go on during a
    # write, the busy timeout waits for the lock instead of failing with
    # "database is locked", and IMMEDIATE takes the write lock when a
    # transaction starts, so two writers never deadlock on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=30000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
# Workers run many short tasks: reconnecting (and, on SQLite, re-running the
# PRAGMAs) for each one would cost more than the send.
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env("ORION_LANGUAGE_CODE")
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("ORION_TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Only for `collectstatic` (to serve the files from elsewhere); unset, the
# files are served straight from the installed apps.
STATIC_ROOT = env("ORION_STATIC_ROOT") or None
# WhiteNoise serves the admin's and the API docs' files in production too;
# from the installed apps directly, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True

# Shared by every process: the API's per-token throttle counts hold across
# web servers when Redis is there; one machine's memory otherwise.
# The cache gets a database of its own (the broker's + 1 unless
# ORION_CACHE_URL says otherwise): clearing a cache empties its whole database.
if env("ORION_CACHE_URL") or env("ORION_BROKER").startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("ORION_CACHE_URL") or next_redis_db(env("ORION_BROKER")),
            "KEY_PREFIX": "orion",
        }
    }

# Email: SMTP from ORION_EMAIL_URL (smtp://user:pass@host:587, smtp+tls://...),
# the console in development.
vars().update(env.email_url("ORION_EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("ORION_DEFAULT_FROM_EMAIL")

# -- Delivery ----------------------------------------------------------------

ORION_ALLOW_PRIVATE_DESTINATIONS = env("ORION_ALLOW_PRIVATE_DESTINATIONS")
# The providers' documented limits always apply, operators' limits on top;
# turning this off leaves only the operators' (a relay with its own limits).
ORION_PROVIDER_RATE_LIMITS = env("ORION_PROVIDER_RATE_LIMITS")
ORION_MAX_ATTEMPTS = env("ORION_MAX_ATTEMPTS")
ORION_RETRY_BASE_SECONDS = env("ORION_RETRY_BASE_SECONDS")
ORION_RETRY_MAX_SECONDS = env("ORION_RETRY_MAX_SECONDS")
ORION_LEASE_SECONDS = env("ORION_LEASE_SECONDS")
ORION_QUEUED_RESCUE_SECONDS = env("ORION_QUEUED_RESCUE_SECONDS")
ORION_DISPATCH_INTERVAL = env("ORION_DISPATCH_INTERVAL")
ORION_BROKER = env("ORION_BROKER")
ORION_SEND_TIMEOUT = env("ORION_SEND_TIMEOUT")

# django-q2. `timeout` bounds one task (the longest send is a connect plus a
# read timeout, far below it); `retry` is longer than `timeout`, so the ORM
# broker never hands a running task to a second worker. A re-delivered task
# is harmless anyway: the worker's claim is a guarded state transition.
Q_CLUSTER = {
    "name": "orion",
    "workers": env("ORION_WORKERS"),
    "timeout": ORION_SEND_TIMEOUT,
    "retry": ORION_SEND_TIMEOUT * 2,
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 250,
    "catch_up": False,
    "poll": 0.1,
    "guard_cycle": 0.5,
    "label": "Task queue",
}
if ORION_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
else:
    Q_CLUSTER["redis"] = ORION_BROKER

# -- API ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an anonymous request is answered 401 with WWW-Authenticate.
        "notifications.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["notifications.api.permissions.ModelPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["notifications.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env("ORION_API_THROTTLE_RATE")},
    "DEFAULT_PARSER_CLASSES": ["notifications.api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "notifications.api.schema.OrionAutoSchema",
    "EXCEPTION_HANDLER": "notifications.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orion API",
    "DESCRIPTION": (
        "Send notifications through chat bots, email, SMS and webhooks.\n\n"
        "Authenticate with `Authorization: Bearer <token>` (a token from "
        "`manage.py create_token USERNAME`). Permissions are the Django model "
        "permissions operators manage in the admin. Every error answers "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its documentation are public; the API itself is not.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Requests and responses differ (secrets, read-only fields): two components.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "NotificationStatus": "notifications.models.Status",
        "NotificationPriority": "notifications.models.Priority",
        "AttemptOutcome": "notifications.models.Outcome",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# -- Logging and error reports -----------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "notifications": {"level": env("ORION_LOG_LEVEL")},
        "adapters": {"level": env("ORION_LOG_LEVEL")},
        "django_q": {"level": "WARNING"},
    },
}

SENTRY_DSN = env("ORION_SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    from orion.sentry import sdk_options

    # No request bodies, cookies, local variables or user data; every event
    # and transaction is scrubbed of webhook tokens (orion/sentry.py).
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("ORION_SENTRY_ENVIRONMENT"),
        **sdk_options(),
    )
