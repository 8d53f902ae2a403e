"""jobcenter settings: one module, driven by environment variables.

SQLite under ``JOBCENTER_DATA_DIR`` by default; PostgreSQL (or any database Django supports)
through ``DATABASE_URL``.
"""

from __future__ import annotations

import json
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from jobcenter.env import env_bool, env_float, env_int, env_list, env_paths, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("JOBCENTER_DATA_DIR", str(BASE_DIR / "var"))).resolve()


def _secret_key() -> str:
    """Use SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False, strict=False)  # (other tools set DEBUG too: DEBUG=express:*)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "jobcenter.credentials.apps.AdminConfig",  # django.contrib.admin, throttled logins
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "jobcenter.core",
    "jobcenter.projects",
    "jobcenter.graphs",
    "jobcenter.credentials",
    "jobcenter.notifications",
    # Before django_tasks_db: our db_worker command wraps theirs with job recovery.
    "jobcenter.jobs",
    "django_tasks",
    "django_tasks_db",
    "jobcenter.api",
    "jobcenter.dashboard",
    "jobcenter.metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "jobcenter.core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jobcenter.dashboard.timezones.DashboardTimezoneMiddleware",
]

ROOT_URLCONF = "jobcenter.urls"
WSGI_APPLICATION = "jobcenter.wsgi.application"

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
    }
]


# The job database's kinds: SQLite, and PostgreSQL (psycopg is installed; no other driver is).
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if url:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in DATABASE_SCHEMES:  # (the URL itself is not shown: it holds a password)
            given = f"a URL of scheme {scheme!r}" if scheme else "a text without '://'"
            raise ImproperlyConfigured(
                "DATABASE_URL must be postgres://user:password@host:port/name (or sqlite:///path, "
                f"or unset: SQLite in the data directory), not {given}"
            )
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if not db.get("NAME"):
            raise ImproperlyConfigured(f"DATABASE_URL names no database: {scheme}://.../name")
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
        db = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "jobcenter.sqlite3",
        }
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the dashboard read while the worker writes; IMMEDIATE avoids deadlocking
        # upgrades from read to write locks; the timeout rides out short write bursts.
        db["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's, with password guessing throttled (jobcenter/credentials/throttle.py).
AUTHENTICATION_BACKENDS = ["jobcenter.credentials.backends.ThrottledModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files every web and worker process must read (job results, uploads): see
# jobcenter/core/shared.py. On one machine the shared directory is the data directory itself
# (nothing is copied); on many, a directory they all mount, or any Django storage backend
# (django-storages: S3, Azure, GCS...) named by JOBCENTER_SHARED_STORAGE with its options as a
# JSON object in JOBCENTER_SHARED_STORAGE_OPTIONS.
JOBCENTER_SHARED_DIR = Path(env_str("JOBCENTER_SHARED_DIR", str(DATA_DIR))).resolve()
_SHARED_STORAGE = env_str("JOBCENTER_SHARED_STORAGE", "django.core.files.storage.FileSystemStorage")
_SHARED_OPTIONS = json.loads(env_str("JOBCENTER_SHARED_STORAGE_OPTIONS", "null") or "null")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "jobcenter": {
        "BACKEND": _SHARED_STORAGE,
        "OPTIONS": _SHARED_OPTIONS
        if _SHARED_OPTIONS is not None
        else {"location": JOBCENTER_SHARED_DIR},
    },
}
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# CSRF refusals shown like the dashboard's other refusals (a toast for htmx requests).
CSRF_FAILURE_VIEW = "jobcenter.dashboard.views.site.csrf_failure"

TASKS = {
    "default": {
        "BACKEND": env_str("JOBCENTER_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# OpenAPI schema of the native API (/api/schema/), with Swagger UI and ReDoc served from the
# vendored drf-spectacular-sidecar assets (no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "jobcenter API",
    "DESCRIPTION": "Jobs, imports, graphs and projects of jobcenter. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["jobcenter.api.schema.native_api_only"],
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobcenter.jobs.choices.JobStatus",
        "JobTypeEnum": "jobcenter.jobs.choices.JobType",
        "RoleEnum": "jobcenter.projects.choices.Role",
        "GraphDialectEnum": "jobcenter.graphs.choices.GraphDialect",
        "GraphStatusEnum": "jobcenter.graphs.choices.GraphStatus",
        "JobDialectEnum": "jobcenter.jobs.choices.JobDialect",
        "FileRoleEnum": "jobcenter.jobs.choices.FileRole",
        "FileStatusEnum": "jobcenter.jobs.choices.FILE_STATES",
        "HealthStatusEnum": ["ok", "unavailable"],
        "ExportFormatEnum": ["ges"],
        "ImportFormatEnum": "jobcenter.graphs.services.IMPORT_FORMATS",
        "WebhookEventEnum": "jobcenter.notifications.choices.WebhookEvent",
        "DeliveryStatusEnum": "jobcenter.notifications.choices.DeliveryStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    # No validator badge: Swagger UI would send the schema to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"audit": {"format": "%(asctime)s audit: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # Who changed what through the API, and when (reads are not logged).
        "audit": {"class": "logging.StreamHandler", "formatter": "audit"},
    },
    "loggers": {
        "jobcenter": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "jobcenter.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
    },
}

# --- jobcenter ---------------------------------------------------------------------------
# Directories that import files may be read from (os.pathsep-separated); uploads are added.
JOBCENTER_IMPORT_ROOTS = env_paths("JOBCENTER_IMPORT_ROOTS", [DATA_DIR / "imports"])
JOBCENTER_UPLOAD_DIR = DATA_DIR / "uploads"
JOBCENTER_GRAPH_DIR = DATA_DIR / "graphs"
# Where graph data lives (jobcenter/graphs/stores/): "sqlite", one file per graph under
# JOBCENTER_GRAPH_DIR (the default), or "postgresql", one schema per graph on the server of
# JOBCENTER_GRAPH_STORE_URL (a libpq URL), else on the job database's (DATABASE_URL).
JOBCENTER_GRAPH_STORE = env_str("JOBCENTER_GRAPH_STORE", "sqlite")
JOBCENTER_GRAPH_STORE_URL = env_str("JOBCENTER_GRAPH_STORE_URL", "")
# Failed-line records kept per file (all failures are still counted).
JOBCENTER_MAX_FAILED_RECORDS = env_int("JOBCENTER_MAX_FAILED_RECORDS", 10_000, minimum=0)
# Graphs with up to this many vertices are imported with an in-memory vertex key index
# (about 40 bytes a vertex); bigger ones look keys up in the graph store (slower, flat memory).
JOBCENTER_IMPORT_INDEX_CAPACITY = env_int("JOBCENTER_IMPORT_INDEX_CAPACITY", 10_000_000, minimum=0)
# A ceiling on each import's pace, in data lines a second (0: as fast as it goes), so that
# imports leave room for other work on a shared graph store.
JOBCENTER_IMPORT_MAX_LINES_PER_SECOND = env_int(
    "JOBCENTER_IMPORT_MAX_LINES_PER_SECOND", 0, minimum=0
)
# Seconds between progress/heartbeat writes of a running job.
JOBCENTER_HEARTBEAT_INTERVAL = env_float("JOBCENTER_HEARTBEAT_INTERVAL", 1.0, minimum=0.01)
# A running job whose heartbeat is older than this is ended as "worker lost".
JOBCENTER_STALE_AFTER = env_float("JOBCENTER_STALE_AFTER", 30.0, minimum=0.01)
# How often a worker sweeps for stale jobs.
JOBCENTER_SWEEP_INTERVAL = env_float("JOBCENTER_SWEEP_INTERVAL", 10.0, minimum=0.01)
# Largest file accepted in an upload (bytes); Django spools big uploads to disk, not memory.
JOBCENTER_MAX_UPLOAD_BYTES = env_int("JOBCENTER_MAX_UPLOAD_BYTES", 2 * 1024**3, minimum=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2

# --- compat dialects (GraphScope Interactive, Huawei GES) ------------------------------------
# The official GraphScope SDK cannot send credentials. Naming a project here lets requests
# without credentials act in that one project (as an operator); empty = off. See docs/compat.md.
JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT = env_str("JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT", "")
# GET /v1/job returns at most this many jobs, newest first.
JOBCENTER_GRAPHSCOPE_MAX_JOBS = env_int("JOBCENTER_GRAPHSCOPE_MAX_JOBS", 1000, minimum=0)
# A signed GES request whose X-Sdk-Date is further than this from the server clock is refused.
JOBCENTER_SIGNATURE_MAX_SKEW = env_int("JOBCENTER_SIGNATURE_MAX_SKEW", 15 * 60, minimum=0)

# --- analytics: algorithm, query, index, export and graph-operation jobs --------------------
# Directories exports and backups are written to (os.pathsep-separated; relative paths in a
# request are taken under the first one). Restores read from these and the import roots.
JOBCENTER_EXPORT_ROOTS = env_paths("JOBCENTER_EXPORT_ROOTS", [DATA_DIR / "exports"])
# One SQLite file per job result (see jobcenter/jobs/results.py).
JOBCENTER_RESULT_DIR = DATA_DIR / "results"
# Most rows a query job keeps (its limit when it gives none).
JOBCENTER_QUERY_MAX_ROWS = env_int("JOBCENTER_QUERY_MAX_ROWS", 1_000_000, minimum=0)
# Days a finished job's result is kept (0: for ever), for projects that set none of their own
# (Project.result_retention_days); workers apply it every JOBCENTER_PURGE_INTERVAL seconds.
JOBCENTER_RESULT_RETENTION_DAYS = env_int("JOBCENTER_RESULT_RETENTION_DAYS", 30, minimum=0)
JOBCENTER_PURGE_INTERVAL = env_float("JOBCENTER_PURGE_INTERVAL", 3600.0, minimum=0.01)
# Graphs a worker keeps built in memory for algorithm jobs, in MiB (estimated; least recently
# used dropped first; 0 keeps none). A worker loads a graph when an import, clear or restore of
# it ends, and at start the graphs of the latest algorithm jobs, at most
# JOBCENTER_WARM_ON_START of them (see jobcenter/jobs/resident.py).
JOBCENTER_GRAPH_MEMORY_MB = env_int("JOBCENTER_GRAPH_MEMORY_MB", 2048, minimum=0)
JOBCENTER_WARM_ON_START = env_int("JOBCENTER_WARM_ON_START", 4, minimum=0)
# Modules of job kinds outside jobcenter/jobs/kinds/ (each registers itself when imported; see
# docs/architecture.md "How to add a job kind"). Comma-separated dotted names.
JOBCENTER_JOB_KINDS = env_list("JOBCENTER_JOB_KINDS", [])

# --- notifications (webhooks) and metrics: docs/notifications.md, docs/metrics.md -------------
# Hosts webhook URLs may name: "hooks.example.com", ".example.com" (it and its subdomains), "*"
# (any host). Empty (the default): no webhook can be created or sent. Checked when a webhook is
# saved and before every attempt.
JOBCENTER_WEBHOOK_ALLOWED_HOSTS = env_list("JOBCENTER_WEBHOOK_ALLOWED_HOSTS", [])
# Whatever the host, a delivery only goes to public addresses, or to these networks (CIDR, e.g.
# "127.0.0.1/32,10.1.0.0/16"): loopback, private, link-local and reserved addresses are refused.
JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = env_list("JOBCENTER_WEBHOOK_ALLOWED_NETWORKS", [])
# Seconds a receiver has to answer (connect and response each).
JOBCENTER_WEBHOOK_TIMEOUT = env_float("JOBCENTER_WEBHOOK_TIMEOUT", 10.0, minimum=0.01)
# Retries: after 1 x BASE seconds, then doubling up to MAX, for RETRY_FOR seconds in all.
JOBCENTER_WEBHOOK_RETRY_BASE = env_float("JOBCENTER_WEBHOOK_RETRY_BASE", 10.0, minimum=0.01)
JOBCENTER_WEBHOOK_RETRY_MAX = env_float("JOBCENTER_WEBHOOK_RETRY_MAX", 3600.0, minimum=0.01)
JOBCENTER_WEBHOOK_RETRY_FOR = env_float("JOBCENTER_WEBHOOK_RETRY_FOR", 86400.0, minimum=0.01)
# How often a worker's sender looks for due deliveries when idle (seconds).
JOBCENTER_WEBHOOK_POLL_INTERVAL = env_float("JOBCENTER_WEBHOOK_POLL_INTERVAL", 0.5, minimum=0.01)
# Days delivered and given-up deliveries stay in the log (0: for ever); trimmed by the workers
# every JOBCENTER_PURGE_INTERVAL.
JOBCENTER_WEBHOOK_LOG_DAYS = env_int("JOBCENTER_WEBHOOK_LOG_DAYS", 30, minimum=0)
# GET /metrics needs "Authorization: Bearer <this>"; empty (the default): /metrics is 404.
JOBCENTER_METRICS_TOKEN = env_str("JOBCENTER_METRICS_TOKEN", "")

# --- security: headers, TLS, login throttling (docs/security.md) ------------------------------
# On every response (SecurityMiddleware, XFrameOptionsMiddleware, core/security.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every page: nothing inline, nothing from elsewhere. The API's ReDoc
# page gets JOBCENTER_CSP_REDOC instead: ReDoc injects <style> elements and runs its search in
# a worker made from a blob.
JOBCENTER_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
JOBCENTER_CSP_REDOC = {
    **JOBCENTER_CSP,
    "style-src": ["'self'", "'unsafe-inline'"],
    "worker-src": ["'self'", "blob:"],
}
# JOBCENTER_TLS=1: served over HTTPS by a TLS-terminating reverse proxy that sets
# X-Forwarded-Proto. Then cookies are Secure, HTTP is redirected to HTTPS (but the health
# check, which load balancers probe over HTTP) and HSTS is sent. Off for `make run` (plain
# HTTP on 127.0.0.1).
JOBCENTER_TLS = env_bool("JOBCENTER_TLS", False)
SECURE_SSL_REDIRECT = JOBCENTER_TLS
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SESSION_COOKIE_SECURE = JOBCENTER_TLS
CSRF_COOKIE_SECURE = JOBCENTER_TLS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if JOBCENTER_TLS else None
SECURE_HSTS_SECONDS = (
    env_int("JOBCENTER_HSTS_SECONDS", 31_536_000, minimum=0) if JOBCENTER_TLS else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("JOBCENTER_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("JOBCENTER_HSTS_PRELOAD", True)
# Reverse proxies in front of the server whose X-Forwarded-For is to be believed (0: none; the
# client address is then REMOTE_ADDR). Used for the per-address login throttle.
JOBCENTER_PROXY_COUNT = env_int("JOBCENTER_PROXY_COUNT", 0, minimum=0)
# Wrong passwords (login page, admin login, POST /api/v1/auth/token/) allowed per user name and
# per client address in a window of JOBCENTER_LOGIN_FAILURE_WINDOW seconds; then that name or
# address gets 429 with Retry-After until the window ends (0 turns a limit off).
JOBCENTER_LOGIN_MAX_FAILURES_PER_USER = env_int(
    "JOBCENTER_LOGIN_MAX_FAILURES_PER_USER", 10, minimum=0
)
JOBCENTER_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int(
    "JOBCENTER_LOGIN_MAX_FAILURES_PER_ADDRESS", 50, minimum=0
)
JOBCENTER_LOGIN_FAILURE_WINDOW = env_int("JOBCENTER_LOGIN_FAILURE_WINDOW", 15 * 60, minimum=1)
