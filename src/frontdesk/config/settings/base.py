"""Settings shared by every mode, read from the environment with safe embedded defaults.

The embedded mode (no variables set) runs on SQLite with an in-memory channel layer, so
``frontdesk demo`` works on a bare machine. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis for production and for the CI run against real servers.
"""

import os
from pathlib import Path
from typing import Any

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

env = environ.Env()

PACKAGE_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = Path(env.str("FRONTDESK_DATA_DIR", default=str(Path.cwd() / "var")))

SECRET_KEY = env.str("SECRET_KEY", default="frontdesk-embedded-insecure-key-change-me-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "django_tasks_db",
    "phonenumber_field",
    "frontdesk.core",
    "frontdesk.accounts",
    "frontdesk.branches",
    "frontdesk.queueing",
    "frontdesk.displays",
    "frontdesk.staffing",
    "frontdesk.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Async-only: under WSGI it would make Django run an event loop per request, so the WSGI entry
    # point (frontdesk.config.wsgi) serves static files with servestatic's WSGI wrapper instead.
    *([] if env.bool("FRONTDESK_WSGI", default=False) else ["servestatic.middleware.ServeStaticMiddleware"]),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "frontdesk.config.urls"
ASGI_APPLICATION = "frontdesk.config.asgi.application"
WSGI_APPLICATION = "frontdesk.config.wsgi.application"
AUTH_USER_MODEL = "accounts.StaffMember"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "queueing:console_home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_settings(url: str) -> dict[str, Any]:
    """One database config from a URL, with the options concurrency needs on each engine.

    SQLite: IMMEDIATE transactions, WAL and a busy timeout, because the default DEFERRED mode
    lost most concurrent kiosk writes to "database is locked". PostgreSQL: persistent
    connections are left to the server setup; psycopg 3 is the driver.
    """
    config: dict[str, Any] = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The embedded mode must start on a fresh checkout: create the data folder it writes to.
        if config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # A file (not memory), so that tests can race real processes against it; one per test
        # run, so that two runs on one machine never share it.
        config["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
    else:
        # Under ASGI each request runs in its own thread, so persistent per-thread connections pile
        # up until PostgreSQL refuses more (measured in BENCHMARKS.md); Django's psycopg pool holds
        # a bounded set instead.
        config["CONN_MAX_AGE"] = 0
        server_side = env.bool("DATABASE_SERVER_SIDE_BINDING", default=True)
        config["OPTIONS"] = {
            # Parameters bound by the server, and a statement prepared once it ran five times on a
            # connection, so PostgreSQL stops parsing and planning the hot ones anew on every
            # request (BENCHMARKS.md). Django leaves preparing off unless asked (prepare_threshold).
            # Both off for a pooler that cannot keep prepared statements (PgBouncer before 1.21).
            "server_side_binding": server_side,
            "prepare_threshold": 5 if server_side else None,
            "pool": {
                "min_size": env.int("DATABASE_POOL_MIN", default=2),
                "max_size": env.int("DATABASE_POOL_MAX", default=16),
                "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
            },
        }
    return config


DATABASES = {
    "default": database_settings(
        env.str("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'frontdesk.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # The pub/sub layer delivered every message to 1,000 boards; the default layer ran out of
    # pooled connections above about 100 (STACK.md).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/sub ignores Redis database numbers: a prefix of our own keeps two deployments (or
            # a test run) sharing one Redis from showing each other's tickets on boards.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env.str("REDIS_CHANNEL_PREFIX", default="frontdesk")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "frontdesk.core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Public check-in must keep working when the cache (Redis) is down: fail open, log it.
RATELIMIT_FAIL_OPEN = True
RATELIMIT_USE_CACHE = "default"
# Behind a reverse proxy, name the header that carries the client's address (e.g. HTTP_X_REAL_IP).
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
PUBLIC_CHECK_IN_RATE = env.str("PUBLIC_CHECK_IN_RATE", default="20/m")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = DEBUG

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {"frontdesk": {"level": env.str("FRONTDESK_LOG_LEVEL", default="INFO"), "propagate": True}},
}

PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="ES")

# Periodic jobs that `frontdesk worker` enqueues, each once per day at a wall-clock time of
# SCHEDULE_TIME_ZONE (frontdesk.core.schedule; the worker looks every SCHEDULE_TICK_SECONDS).
SCHEDULE_TIME_ZONE = env.str("SCHEDULE_TIME_ZONE", default="Europe/Madrid")
SCHEDULE_TICK_SECONDS = env.float("SCHEDULE_TICK_SECONDS", default=30.0)
PERIODIC_JOBS = {
    "refit_wait_estimators": {
        "task": "frontdesk.queueing.tasks.refit_wait_estimators",
        "daily_at": env.str("REFIT_WAIT_ESTIMATORS_AT", default="02:30"),
    },
}
