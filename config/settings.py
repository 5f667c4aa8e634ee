"""Stegvis settings, read from environment variables.

With nothing set, the embedded default applies: a SQLite file in the project folder and
Celery tasks run eagerly in-process. Production overrides live in settings_production.py.
"""

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import celery_config, databases_config, env_bool, env_list
from config.languages import DJANGO_LANGUAGES
from config.logs import LOG_FORMATTERS

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ

# Development-only fallbacks. settings_production refuses to start with any of these.
DEV_SECRET_KEY = "dev-insecure-secret-key-only-for-the-embedded-default"  # noqa: S105
DEV_FIELD_KEY = "ZGV2LWluc2VjdXJlLWZpZWxkLWtleS0zMi1ieXRlcyE="  # Fernet key, dev only
DEV_PNR_PEPPER = "dev-insecure-pseudonym-pepper"

SECRET_KEY = ENV.get("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool(ENV, "DEBUG", False)
ALLOWED_HOSTS = env_list(ENV, "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list(ENV, "CSRF_TRUSTED_ORIGINS", [])

# Identity vault: MultiFernet keys (newest first) and the HMAC pepper for pnr_index.
# Kept apart from SECRET_KEY so rotating one never touches the other.
FIELD_ENCRYPTION_KEYS = env_list(ENV, "STEGVIS_FIELD_KEYS", [DEV_FIELD_KEY])
PNR_PEPPER = ENV.get("STEGVIS_PNR_PEPPER", DEV_PNR_PEPPER)

INSTALLED_APPS = [
    "config.apps.StegvisAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "participants",
    "surveys",
    "progression",
]

MIDDLEWARE = [
    "config.logs.RequestIdMiddleware",
    "participants.permissions.MembershipsPerRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.LanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "participants.two_factor.TwoFactorMiddleware",
    "config.middleware.ScriptLoginMiddleware",
    "config.middleware.PrivatePagesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "participants.context_processors.pages",
                "config.context_processors.page_language",
            ],
        },
    },
]

DATABASES = databases_config(ENV, BASE_DIR)
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = ENV.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }

# --- Authentication and security baseline -------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock a username at an address after five failed logins, for 15 minutes.
AXES_FAILURE_LIMIT = int(ENV.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Coordinators and admins see reports and administration: they must log in with a TOTP code too.
REQUIRE_TWO_FACTOR = env_bool(ENV, "STEGVIS_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = "Stegvis"

SESSION_COOKIE_AGE = int(ENV.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error pages and error mails (DEBUG's technical page among them) show settings and the environment
# with the pepper, the field keys and the passwords in service URLs masked.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.errors.SecretsMaskingFilter"
CSRF_FAILURE_VIEW = "config.middleware.csrf_failure"

# Everything is served from this service: no CDN, no outside host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        # Read-aloud clips play from memory (blob: URLs, surveys/static/surveys/readaloud.js).
        "media-src": [SELF, "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = DJANGO_LANGUAGES  # config/languages.py: participant pages in all, staff pages in sv or en
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(ENV.get("STEGVIS_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "config.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only: a form or multipart body cannot carry the nested answers or a null.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Counted in the cache (Redis) per clock hour: per user (a request without one: per IP address),
    # and per IP address whoever the user. 429 with Retry-After beyond (docs/api.md).
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.UserThrottle", "config.throttling.IpThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": ENV.get("STEGVIS_API_RATE_USER", "2000/hour"),
        "ip": ENV.get("STEGVIS_API_RATE_IP", "5000/hour"),
        # New answers to one public survey or self-assessment link from one device (IP address):
        # config.throttling.PublicAnswerThrottle, on the pages without an account.
        "public_answers": ENV.get("STEGVIS_PUBLIC_ANSWER_RATE", "30/hour"),
    },
    # Proxies in front of gunicorn that append to X-Forwarded-For: the client's address is the one the
    # last of them appended. 0 (no proxy): REMOTE_ADDR, and X-Forwarded-For is ignored.
    "NUM_PROXIES": int(ENV.get("STEGVIS_NUM_PROXIES", "0")),
    "EXCEPTION_HANDLER": "config.api.api_exception_handler",
}
# A personal API key works this many days after it was made (participants/api_keys.py).
API_KEY_LIFETIME_DAYS = int(ENV.get("STEGVIS_API_KEY_DAYS", "90"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Stegvis API",
    "DESCRIPTION": "Version 1. Sessionsinloggning för webben, personliga API-nycklar (Authorization: Token …) "
    'för integrationer. Samma behörigheter som sidorna. Fel: {"fält": ["meddelande"]} eller {"detail": …}.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags and operation ids start after the version prefix: "deltagare", "participant_list".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "ExtentEnum": "participants.models.EXTENT_CHOICES",
        "ExtentInputEnum": "participants.serializers.EXTENT_VALUES",
        "ConsentChannelEnum": "participants.models.ConsentChannel",
        "PerspectiveEnum": "surveys.models.Perspective",
    },
}

# --- Celery -------------------------------------------------------------------------------
_celery = celery_config(ENV)
CELERY_BROKER_URL = _celery["broker_url"]
CELERY_TASK_ALWAYS_EAGER = _celery["task_always_eager"]
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None  # job state lives in our own tables
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "progression.tasks.rebuild_chunk": {"queue": "long"},
    "progression.tasks.run_export": {"queue": "long"},
    "participants.tasks.run_import": {"queue": "long"},
    "progression.tasks.norms_complete": {"queue": "long"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A Redis that cannot be reached holds a publish at most 5 s a try, three tries (progression.hooks
# and progression.reports.jobs then leave the work to their sweeps). A read timeout on the broker's
# sockets ("socket_timeout") would also bound a Redis that accepts and never answers, but with it a
# killed worker's chunk came back before its visibility timeout in 1 of 4 runs of the fault test
# (tests/reliability/test_real_faults.py), so it is left out; docs/deployment.md says so.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING (config.celery, setup_logging)
# Periodic jobs, in code so that every deployment runs the same schedule.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "participants.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=10),
    },
    "progression-sweep": {
        "task": "progression.tasks.progression_sweep",
        "schedule": 300.0,
    },
    "compact-flow-counts": {
        "task": "progression.tasks.flow_counts_compact",
        "schedule": crontab(minute="*/10"),
    },
    "rebuild-resume-stalled": {
        "task": "progression.tasks.rebuild_resume_stalled",
        "schedule": 300.0,
    },
    "republish-exports": {
        "task": "progression.tasks.republish_exports",
        "schedule": crontab(minute="*/2"),
    },
    "republish-imports": {
        "task": "participants.tasks.republish_imports",
        "schedule": crontab(minute="*/2"),
    },
    "expire-exports": {
        "task": "progression.tasks.expire_exports",
        "schedule": crontab(hour=4, minute=0),
    },
    "expire-uploads": {
        "task": "participants.tasks.expire_uploads",
        "schedule": crontab(minute=20),
    },
    "complete-norms": {
        "task": "progression.tasks.norms_complete",
        "schedule": crontab(hour=1, minute=40),
    },
    "erase-expired-identities": {
        "task": "participants.tasks.erase_expired_identities",
        "schedule": crontab(hour=2, minute=30),
    },
}

# Whether /readyz (and /healthz) needs a Celery worker to answer (it does whenever tasks are not eager).
HEALTHZ_REQUIRE_WORKER = env_bool(ENV, "HEALTHZ_REQUIRE_WORKER", not CELERY_TASK_ALWAYS_EAGER)

# Optional error reporting (config/errors.py), personal data scrubbed.
SENTRY_DSN = ENV.get("SENTRY_DSN", "").strip()
if SENTRY_DSN:
    from config.errors import error_reporting_init

    error_reporting_init(
        SENTRY_DSN,
        environment=ENV.get("SENTRY_ENVIRONMENT", "production"),
        release=ENV.get("SENTRY_RELEASE", ""),
        traces_sample_rate=float(ENV.get("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
    )

# JSON lines with request ids, personnummer and tokens redacted (config/logs.py); LOG_FORMAT=plain
# for a terminal (scripts/run sets it).
LOG_FORMAT = ENV.get("LOG_FORMAT", "").strip().lower() or "json"
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT ska vara json eller plain, inte {LOG_FORMAT!r}.")
LOGGING_CONFIG = "config.logs.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": LOG_FORMATTERS,
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": ENV.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        # Django's own handlers (its console and runserver's request lines) give way to ours; the
        # access log (config.logs.RequestIdMiddleware) has every request already.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "level": "ERROR", "propagate": True},
    },
}

# The consent text participants agree to; bump when the text changes (stored with each consent).
CONSENT_TEXT_VERSION = ENV.get("STEGVIS_CONSENT_TEXT_VERSION", "2026-1")
# A norm resting on fewer baselines than this classifies nothing ("för få för att bedöma"); each
# norm set records the minimum it was made with (progression/norms.py).
NORM_MINIMUM_N = int(ENV.get("STEGVIS_NORM_MINIMUM_N", "30"))
