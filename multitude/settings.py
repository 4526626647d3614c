"""Multitude settings: everything comes from the environment.

Unset, the embedded default is used (a SQLite file under var/ and the in-memory channel
layer), so a fresh clone runs with `make run` and nothing else.
"""

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from core.env import env, env_bool, env_float, env_int, env_list, mailer
from core.redis_clients import SENTINEL_KWARGS, parse_sentinels, url_options

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "django-insecure-multitude-embedded-default-only-for-local-development"
SECRET_KEY = env("SECRET_KEY") or _DEV_SECRET
# The Ed25519 key that signs the history's tree heads (docs/security.md): base64 of the
# 32-byte private key, or a PEM. Unset, a development key is derived from SECRET_KEY, and a
# deployment (SECRET_KEY set) is warned loudly: check proposals.W001 and the log.
HISTORY_SIGNING_KEY = env("HISTORY_SIGNING_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks_db",
    "core",
    "assemblies",
    "proposals",
    "sittings",
    "notifications",
]

MIDDLEWARE = [
    # Pages compressed on a slow network (issue 15, point 5; bench/slow_network.py). Django's
    # GZipMiddleware pads each response against BREACH, and CSRF tokens are masked per page.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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

ROOT_URLCONF = "multitude.urls"
WSGI_APPLICATION = "multitude.wsgi.application"
ASGI_APPLICATION = "multitude.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sittings.context_processors.live_labels",
                "core.context_processors.outbox_labels",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# DATABASE_URL selects the server (postgres://user@host:port/name); unset, a SQLite file.
_default_sqlite = f"sqlite:///{VAR_DIR / 'multitude.sqlite3'}"
if not env("DATABASE_URL"):
    VAR_DIR.mkdir(exist_ok=True)  # the embedded default lives here; a fresh clone lacks it
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or _default_sqlite,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0),
        conn_health_checks=True,
    )
}
# Parallel test runs (several developers or helpers on one server) may pick their own name.
if env("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (Django's Tasks framework) -------------------------------------------
# Tasks wait in the database for `manage.py db_worker` (started by `make run`, the `worker`
# service of docker-compose.yml), so sending never holds up a request and retries can wait.
# TASKS_BACKEND=immediate runs each task at once in the process that enqueues it (no worker;
# no retries or digests, which need a later start).
_TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = env("TASKS_BACKEND") or "database"
if TASKS_BACKEND not in _TASKS_BACKENDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"TASKS_BACKEND={TASKS_BACKEND!r}: use database or immediate, or leave it unset."
    )
TASKS = {
    "default": {
        "BACKEND": _TASKS_BACKENDS[TASKS_BACKEND],
        "QUEUES": ["default"],
    }
}

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL (smtp://user:password@host:port, smtp+tls://, smtps://, console://) or the usual
# EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL
# variables; neither set, mail is printed to the terminal (so `make run` shows it). Django
# 6.1 configures mail through MAILERS; the old EMAIL_* settings are deprecated there.
_mailer = mailer("EMAIL_URL")
if _mailer is None and env("EMAIL_HOST"):
    _mailer = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env("EMAIL_HOST"),
            "port": env_int("EMAIL_PORT", 25, minimum=1),
            "username": env("EMAIL_HOST_USER"),
            "password": env("EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "use_ssl": env_bool("EMAIL_USE_SSL", False),
        },
    }
_mailer = _mailer or {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
if _mailer["BACKEND"].endswith("smtp.EmailBackend"):
    _mailer["OPTIONS"]["timeout"] = env_int("EMAIL_TIMEOUT", 20, minimum=1)
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Multitude <multitude@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Redis and the channel layer ------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
REDIS_POOL_SIZE = env_int("REDIS_POOL_SIZE", 64, minimum=1)
REDIS_PREFIX = env("REDIS_PREFIX", "multitude")
# Redis Sentinel (core/redis_clients.py): "host:port,host:port"; the master's address then
# comes from the Sentinels, REDIS_URL gives only the database number and the password.
REDIS_SENTINELS = parse_sentinels(env("REDIS_SENTINELS"))
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", "multitude")
if REDIS_URL:
    _layer_host = {"address": REDIS_URL, "max_connections": REDIS_POOL_SIZE}
    _cache_options = {}
    if REDIS_SENTINELS:
        _layer_host = {
            "sentinels": REDIS_SENTINELS,
            "master_name": REDIS_SENTINEL_MASTER,
            "sentinel_kwargs": SENTINEL_KWARGS,
            "max_connections": REDIS_POOL_SIZE,
            **url_options(REDIS_URL),
        }
        _cache_options = {"pool_class": "core.redis_clients.SentinelCachePool"}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [_layer_host], "prefix": REDIS_PREFIX},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            "OPTIONS": _cache_options,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English times read "6:53 PM", not "6:53 p.m.": a date at the end of a sentence kept a dot.
FORMAT_MODULE_PATH = ["multitude.formats"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Hashed, compressed names once `collectstatic` has run (the Docker image does); a plain
# checkout (make run, test servers) serves the source folders under their plain names.
_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _COLLECTED and not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not _COLLECTED

# --- Security ---------------------------------------------------------------------------------
# Behind a TLS-terminating proxy in production; SECURE_* follow DEBUG so a plain local run
# over http://127.0.0.1 keeps working.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and bool(env("SECRET_KEY")))
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and bool(env("SECRET_KEY")))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preload is on by default in production (check --deploy asks for it); set 0 to opt out.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its challenge makes "not authenticated" a 401, as API clients expect.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # JSON only: the browsable API's inline scripts do not run under the site's CSP; the
    # docs page (/api/v1/docs/) is the way to explore.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "core.api.MultitudeAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Multitude API",
    "DESCRIPTION": (
        "Consensus decision-making for general assemblies. Authenticate with a session or "
        "with `Authorization: Token <key>`; public assemblies are readable anonymously. "
        'Every refusal is `{"code", "message"}`. See docs/api.md.'
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's assets come from drf-spectacular-sidecar, served locally: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PhaseEnum": "proposals.models.Phase.choices",
        "DiscussionPhaseEnum": "proposals.serializers.DISCUSSION_PHASE_CHOICES",
        "PositionKindEnum": "proposals.models.PositionKind.choices",
        "CommentKindEnum": "proposals.models.CommentKind.choices",
        "OutcomeEnum": "proposals.models.Outcome.choices",
        "RoleEnum": "assemblies.models.Role.choices",
    },
}

# --- Multitude ------------------------------------------------------------------------------
# How often the live layer publishes coalesced snapshots (seconds).
LIVE_PUBLISH_INTERVAL = env_float("LIVE_PUBLISH_INTERVAL", 0.1, minimum=0.01)
# The interval grows with the audience of a process so that it writes at most this many
# snapshots a second to its sockets (the fan-out is the live layer's main cost), up to the
# maximum interval: 2,000 sockets -> 0.2 s, 5,000 -> 0.5 s, 10,000 or more -> 1 s.
LIVE_DELIVERIES_PER_SECOND = env_float("LIVE_DELIVERIES_PER_SECOND", 10000.0, minimum=1)
LIVE_PUBLISH_INTERVAL_MAX = env_float("LIVE_PUBLISH_INTERVAL_MAX", 1.0, minimum=0.01)
# Every socket gets a tiny `beat` frame this often (seconds); a client that hears nothing
# for three of them takes the connection for lost and reconnects (a host gone silent).
LIVE_HEARTBEAT_SECONDS = env_float("LIVE_HEARTBEAT_SECONDS", 10.0, minimum=0.1)
# How long a hand signal counts in the live aggregate before it fades (seconds).
HAND_SIGNAL_SECONDS = env_float("HAND_SIGNAL_SECONDS", 10.0, minimum=0)
# Per person on the live socket (core/person_limits.py): open sockets per server process,
# writes a second across all their sockets, and the wait after a disconnection for abuse.
LIVE_SOCKETS_PER_PERSON = env_int("LIVE_SOCKETS_PER_PERSON", 10, minimum=1)
LIVE_WRITES_PER_PERSON_PER_SECOND = env_int("LIVE_WRITES_PER_PERSON_PER_SECOND", 10, minimum=1)
LIVE_ABUSE_PENALTY_SECONDS = env_float("LIVE_ABUSE_PENALTY_SECONDS", 30.0, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# The agenda's deferrable order constraint exists on PostgreSQL; on the embedded SQLite
# default the services alone keep agenda positions unique.
SILENCED_SYSTEM_CHECKS = ["models.W038"]

# Wrong join codes allowed per client address and assembly before it must wait
# (django-ratelimit syntax). Right codes are never counted.
JOIN_FAILURE_RATE = env("JOIN_FAILURE_RATE", "20/10m")
# Wrong guesses of an assembly's current join code, from anywhere, after which the code
# rotates by itself (assemblies/join_guard.py).
JOIN_WRONG_CODES_BEFORE_ROTATION = env_int("JOIN_WRONG_CODES_BEFORE_ROTATION", 100, minimum=1)
# Guests (accounts made from a code and a name) an assembly takes per minute.
JOIN_GUESTS_PER_MINUTE = env_int("JOIN_GUESTS_PER_MINUTE", 300, minimum=1)
# Addresses (or CIDR networks, or "*") of the proxies whose forwarded headers are believed.
# The same variable tells uvicorn whose X-Forwarded-For/-Proto to apply (it reads it from the
# environment, with the same default), so both layers agree. Default: only a proxy on this host.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1", "::1"])
# The request header holding the client's address (e.g. HTTP_X_FORWARDED_FOR), read only when
# the request comes from one of FORWARDED_ALLOW_IPS; from anyone else it is ignored.
TRUSTED_PROXY_HEADER = env("TRUSTED_PROXY_HEADER", "")

# Password guessing (django-ratelimit syntax). Only wrong passwords are counted, and an
# attempt over a budget is refused before the password hasher runs (argon2 is costly by
# design, so unlimited attempts are a CPU weapon). Per client address, and per account from
# browsers the account has not logged in from before; a browser that logged in to the
# account (a signed cookie) has its own budget, so an attacker cannot lock the owner out.
LOGIN_FAILURES_PER_ADDRESS = env("LOGIN_FAILURES_PER_ADDRESS", "20/10m")
LOGIN_FAILURES_PER_ACCOUNT = env("LOGIN_FAILURES_PER_ACCOUNT", "20/h")
# New personal API tokens a person may make (each replaces the last).
TOKEN_CREATE_RATE = env("TOKEN_CREATE_RATE", "10/h")

# Online proposals: how often each server process closes calls whose time has come (and
# announces those closing within 24 h and 1 h, for the reminders).
ONLINE_CLOSE_CHECK_SECONDS = env_float("ONLINE_CLOSE_CHECK_SECONDS", 1.0, minimum=0.01)

# A sitting survives any one person (sittings/stand_in.py): after this long with no
# facilitator connected, any member may offer to stand in; a quick consent of the members
# present (a stand-in, or a facilitator asked to step aside) passes when nobody objects
# within QUICK_CONSENT_SECONDS. Facilitators' connections are noted every
# FACILITATOR_PRESENCE_SECONDS by each server process.
FACILITATOR_AWAY_SECONDS = env_float("FACILITATOR_AWAY_SECONDS", 120.0, minimum=1.0)
QUICK_CONSENT_SECONDS = env_float("QUICK_CONSENT_SECONDS", 60.0, minimum=1.0)
FACILITATOR_PRESENCE_SECONDS = env_float("FACILITATOR_PRESENCE_SECONDS", 30.0, minimum=0.1)
# Notifications (docs/notifications.md): attempts at an email or a webhook delivery before it
# is given up, the first retry's delay (doubled at each later one), the hour (UTC) daily
# digests are sent, and how long a one-tap link in an email stays valid.
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 6, minimum=1)
NOTIFY_RETRY_SECONDS = env_float("NOTIFY_RETRY_SECONDS", 30.0, minimum=0)
NOTIFY_DIGEST_HOUR = env_int("NOTIFY_DIGEST_HOUR", 7, minimum=0)
NOTIFY_LINK_DAYS = env_int("NOTIFY_LINK_DAYS", 30, minimum=1)
