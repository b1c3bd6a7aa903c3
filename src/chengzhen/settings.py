"""Django settings.

Embedded default: SQLite in the data folder (``CHENGZHEN_DATA_DIR``, default ``./var``) in WAL
mode with immediate transactions and a busy timeout, so web server, worker and scheduler can
write side by side. ``DATABASE_URL`` selects PostgreSQL for real deployments.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CHENGZHEN_DATA_DIR", Path.cwd() / "var")).resolve()

SECRET_KEY = os.environ.get("CHENGZHEN_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = os.environ.get("CHENGZHEN_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("CHENGZHEN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks_db",
    "crontask",
    "chengzhen.audit",
    "chengzhen.org",
    "chengzhen.programmes",
    "chengzhen.ledger",
    "chengzhen.supervision",
    "chengzhen.assessment",
    "chengzhen.lifecircle",
    "chengzhen.documents",
    "chengzhen.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files served by the platform
    "django.contrib.sessions.middleware.SessionMiddleware",
    "chengzhen.language.LanguageCookieMiddleware",  # Chinese unless the language cookie says English
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chengzhen.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chengzhen.urls"
WSGI_APPLICATION = "chengzhen.wsgi.application"

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
                "chengzhen.supervision.views.unread_count",
            ],
        },
    },
]


# SQLite, wherever its file is: WAL, immediate transactions and a busy timeout, so the web
# server, the worker and the scheduler write side by side instead of failing "locked".
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        db = dj_database_url.parse(url, conn_max_age=60)
        if db["ENGINE"] == "django.db.backends.sqlite3":
            db["OPTIONS"] = {**SQLITE_OPTIONS, **db.get("OPTIONS", {})}
        elif db["ENGINE"] == "django.db.backends.postgresql":
            # No JIT: the ledger's computed columns give the planner high cost estimates, and
            # compiling a list query took PostgreSQL over a second to save a few milliseconds.
            db.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
        return db
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "chengzhen.sqlite3",
        # a file, not memory, so tests can hand the database to a `chengzhen` subprocess
        "TEST": {"NAME": str(DATA_DIR / "test-chengzhen.sqlite3")},
        "OPTIONS": SQLITE_OPTIONS,
        "CONN_MAX_AGE": 60,  # a gunicorn worker keeps its connection (and its PRAGMAs)
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The interface's English catalog (Chinese msgids): chengzhen makemessages -l en, compilemessages.
LOCALE_PATHS = [BASE_DIR / "locale"]
# The header's language switch sets this cookie (Django's set_language); it lasts a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Static files come from the installed packages themselves (no collectstatic step needed);
# WhiteNoise serves them under gunicorn exactly as runserver would.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "files"

# The account that commands run as when no --as is given (audited under this name).
CHENGZHEN_SYSTEM_USERNAME = "system"
# Lights follow ledger changes at once for up to this many tasks; more go to the worker.
CHENGZHEN_LIGHTS_INLINE_TASKS = int(os.environ.get("CHENGZHEN_LIGHTS_INLINE_TASKS", 500))
# Bulletins (工作通报): the ranking's composite weights and how many units are commended, as
# defaults a programme's bulletin settings override. Not from a source: configurable.
CHENGZHEN_BULLETIN_WEIGHTS = {"completion": 0.4, "schedule": 0.4, "timeliness": 0.2}
CHENGZHEN_BULLETIN_COMMEND_COUNT = 3
# 人大代表 and 政协委员 investigate in alternate months (县人大、县政协要分单、双月份组织): which
# months each body takes ("odd"/"even"); an investigation in the other months is flagged.
CHENGZHEN_INVESTIGATION_MONTHS = {"npc": "odd", "cppcc": "even"}

# Notifications (催办) are also e-mailed to people with an address: through SMTP when
# CHENGZHEN_SMTP_HOST is set, else written to the worker's console.
if os.environ.get("CHENGZHEN_SMTP_HOST"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": os.environ["CHENGZHEN_SMTP_HOST"],
        "port": int(os.environ.get("CHENGZHEN_SMTP_PORT", 25)),
        "username": os.environ.get("CHENGZHEN_SMTP_USER", ""),
        "password": os.environ.get("CHENGZHEN_SMTP_PASSWORD", ""),
        "use_tls": os.environ.get("CHENGZHEN_SMTP_TLS", "0") == "1",
    }}}
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("CHENGZHEN_MAIL_FROM", "chengzhen@localhost")
# The platform's address as people reach it, for links in e-mails.
CHENGZHEN_SITE_URL = os.environ.get("CHENGZHEN_SITE_URL", "http://127.0.0.1:8000")
# Largest evidence file (photo, PDF, Office document) accepted, in bytes.
CHENGZHEN_MAX_EVIDENCE_BYTES = int(os.environ.get("CHENGZHEN_MAX_EVIDENCE_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
# Imports of at least this many rows run in the background worker, with a progress page.
CHENGZHEN_IMPORT_JOB_ROWS = int(os.environ.get("CHENGZHEN_IMPORT_JOB_ROWS", 500))
# Exports of at least this many rows run in the background worker, with a progress page.
CHENGZHEN_EXPORT_JOB_ROWS = int(os.environ.get("CHENGZHEN_EXPORT_JOB_ROWS", 2000))
# How long an uploaded sheet waits for its apply, and an export for its download (hours);
# the scheduler's hourly housekeeping removes them after that.
CHENGZHEN_UPLOAD_KEEP_HOURS = int(os.environ.get("CHENGZHEN_UPLOAD_KEEP_HOURS", 24))
CHENGZHEN_EXPORT_KEEP_HOURS = int(os.environ.get("CHENGZHEN_EXPORT_KEEP_HOURS", 72))
# Largest spreadsheet accepted for import, in bytes.
CHENGZHEN_MAX_UPLOAD_BYTES = int(os.environ.get("CHENGZHEN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed logins per username within the window before the username is locked for it.
LOGIN_FAILURE_LIMIT = int(os.environ.get("CHENGZHEN_LOGIN_FAILURE_LIMIT", 5))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("CHENGZHEN_LOGIN_LOCKOUT_MINUTES", 15))
# Failed logins from one client address (any usernames) within the window before it is refused.
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("CHENGZHEN_LOGIN_ADDRESS_FAILURE_LIMIT", 20))
# Behind a reverse proxy: the request header carrying the client's address, e.g.
# HTTP_X_REAL_IP (set it only when the proxy overwrites that header); empty: REMOTE_ADDR.
CHENGZHEN_CLIENT_ADDRESS_HEADER = os.environ.get("CHENGZHEN_CLIENT_ADDRESS_HEADER", "")
STATICFILES_DIRS = [BASE_DIR / "static"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "chengzhen.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "chengzhen.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "城镇 chengzhen API",
    "DESCRIPTION": "任务台账、进度报送与组织数据。令牌认证：Authorization: Token <key>。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the drf-spectacular-sidecar package, served by the platform: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # several models have a "status" or "source": each choice set gets its own name
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "chengzhen.ledger.choices.TaskStatus",
        "BulletinStatusEnum": "chengzhen.supervision.models.BulletinStatus",
        "BulletinSourceEnum": "chengzhen.supervision.models.BulletinSource",
        "RoundStatusEnum": "chengzhen.assessment.models.RoundStatus",
        "FrameworkStatusEnum": "chengzhen.assessment.models.FrameworkStatus",
        "DesignationStateEnum": "chengzhen.assessment.models.DesignationState",
        "FundMethodEnum": "chengzhen.assessment.models.FundMethod",
        "WeightMethodEnum": "chengzhen.assessment.models.WeightMethod",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "chengzhen.api.add_error_responses"],
}

# Background work: Django's task framework with a database-backed queue; `chengzhen db_worker`
# runs the jobs (make run starts one beside the web server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Errors (a 500's traceback) go to stderr whatever DEBUG says, so gunicorn's log has them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "chengzhen": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}
