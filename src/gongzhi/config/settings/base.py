"""Settings shared by every environment.

Everything that differs between machines comes from the environment (12-factor):
DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS, REDIS_URL, GONGZHI_DATA_DIR, ...
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("GONGZHI_DATA_DIR", Path.cwd() / "var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rules.apps.AutodiscoverRulesConfig",
    # django-ninja ships the API docs page's scripts and styles as static files
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "gongzhi.core",
    "gongzhi.places",
    "gongzhi.accounts",
    "gongzhi.cases",
    "gongzhi.api",
    "gongzhi.insights",
    "gongzhi.open311",
    "gongzhi.deliberation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gongzhi.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gongzhi.core.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "gongzhi.core.middleware.RefuseNullCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gongzhi.config.urls"
WSGI_APPLICATION = "gongzhi.config.wsgi.application"
ASGI_APPLICATION = "gongzhi.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gongzhi.core.context_processors.gongzhi",
            ],
        },
    },
]

# SQLite (WAL) by default: one file for one community or subdistrict.
# PostgreSQL when DATABASE_URL says so: a city.
DEFAULT_SQLITE_PATH = DATA_DIR / "gongzhi.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue instead of failing mid-transaction.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

# A PostgreSQL streaming replica for the boards' reads (core/db.py); the tests use the
# primary in its place.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["gongzhi.core.db.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "gongzhi.accounts.backends.PhoneOrUsernameBackend",
    "gongzhi.accounts.backends.AdministratorBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
# Uploaded files (case photos) are personal data: production serves them only through
# access-checked views; the development settings also serve them at MEDIA_URL.
GONGZHI_SERVE_MEDIA = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }

# Background work: Django's task API. The database backend needs nothing else;
# TASK_BACKEND=rq runs the same tasks on Redis for a city.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASK_BACKEND = os.environ.get("TASK_BACKEND", "db")
if TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    import redis

    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # django-rq opens a new connection for every enqueue when given a URL (a handshake and
    # a package-version lookup each: 60 ms under load); one pool per process instead.
    # redis-py resets the pool in a forked job process.
    _rq_url = urlsplit(REDIS_URL or "redis://127.0.0.1:6379/0")
    RQ_QUEUES = {
        "default": {
            "HOST": _rq_url.hostname or "127.0.0.1",
            "PORT": _rq_url.port or 6379,
            "DB": int(_rq_url.path.lstrip("/") or 0),
            "PASSWORD": _rq_url.password,
            "REDIS_CLIENT_KWARGS": {
                "connection_pool": redis.ConnectionPool.from_url(_rq_url.geturl())
            },
        }
    }
    # Jobs run in the worker process, as on the database queue: rq's default Worker forks
    # a process per job, which made two workers 2.7 times slower on short tasks
    # (docs/performance.md). GONGZHI_RQ_WORKER_CLASS=rq.worker.Worker isolates each job.
    RQ = {"WORKER_CLASS": os.environ.get("GONGZHI_RQ_WORKER_CLASS", "rq.worker.SimpleWorker")}

# Messages to phones go through an adapter; the console backend prints them and keeps
# them in the outbox, so a demo or an intranet works without an SMS gateway.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "gongzhi.core.sms.ConsoleSmsBackend")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gongzhi@localhost")
# Notifications on the webhook channel are POSTed here as JSON; unset, the channel is unused.
GONGZHI_WEBHOOK_URL = os.environ.get("GONGZHI_WEBHOOK_URL", "")

GONGZHI = {
    # one-time codes: 6 digits, valid 5 minutes, 5 tries, one per minute per phone
    "OTP_TTL_SECONDS": 300,
    "OTP_MAX_ATTEMPTS": 5,
    "OTP_RESEND_SECONDS": 60,
    # login throttling: failures per identifier and per IP within the window
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_WINDOW_SECONDS": 900,
    # behind a proxy, the request header holding the client's address (e.g. HTTP_X_REAL_IP);
    # empty: REMOTE_ADDR. Only set it when the proxy overwrites that header.
    "CLIENT_IP_HEADER": os.environ.get("GONGZHI_CLIENT_IP_HEADER", ""),
    # the `working` clock counts these hours on working days (rules §2)
    "WORKING_HOURS": ("09:00", "17:00"),
    # channels notifications go out on (in_app, sms, email, webhook); others are skipped
    "NOTIFICATION_CHANNELS": env_list("GONGZHI_NOTIFICATION_CHANNELS", "in_app,sms"),
    # reports (page, API, Open311) per account or address: requests, seconds
    "REPORT_RATE_LIMIT": tuple(map(int, env_list("GONGZHI_REPORT_RATE_LIMIT", "20,60"))),
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent on every response by core.middleware.ContentSecurityPolicyMiddleware. Scripts only
# from our own files: no inline script, no eval, so injected markup cannot run code.
# Inline styles stay allowed because ECharts, htmx's indicator and server-computed bar
# widths use them, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "gongzhi.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
    },
}
