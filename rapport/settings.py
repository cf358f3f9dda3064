"""Django settings for Rapport, read from environment variables (see docs/configuration.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url

from rapport.env import ConfigurationError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("RAPPORT_VAR_DIR", str(BASE_DIR.parent / "var"))).resolve()


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one generated once and kept under var/."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:  # created readable by its owner only, never for a moment by others
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return key_file.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "rapport.core",
    "rapport.directory",
    "rapport.activities",
    "rapport.sales",
    "rapport.support",
    "rapport.mail",
    "rapport.automation",
    "rapport.templating",
    "rapport.campaigns",
    "rapport.search",
    "rapport.imports",
    "rapport.exports",
    "rapport.reports",
    "rapport.documents",
    "rapport.projects",
    "rapport.expenses",
    "rapport.sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "rapport.core.middleware.RefuseNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rapport.core.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "rapport.urls"
WSGI_APPLICATION = "rapport.wsgi.application"

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
                "rapport.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# SQLite is the embedded default: WAL, a busy timeout and IMMEDIATE transactions
# so that the web process and the worker writing at once never see "database is locked".
SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA cache_size=-65536;"
        "PRAGMA mmap_size=268435456;"
        "PRAGMA temp_store=MEMORY;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def _database(url: str) -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)))
    except Exception as exc:  # dj_database_url raises several types for a bad URL
        raise ConfigurationError(f"DATABASE_URL is not a database URL Rapport understands: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
        config["CONN_MAX_AGE"] = 0 if config["NAME"] == ":memory:" else config["CONN_MAX_AGE"]
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ConfigurationError("DATABASE_URL must name SQLite (sqlite:///path) or PostgreSQL (postgresql://...)")
    return config


DATABASES = {"default": _database(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rapport.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["rapport.core.backends.RapportBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
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
# Repeated failed logins lock the username (from any address) for a while.
LOGIN_FAILURE_LIMIT = env_int("RAPPORT_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("RAPPORT_LOGIN_FAILURE_WINDOW", 15 * 60)

# Behind an HTTPS proxy (RAPPORT_BEHIND_PROXY) or with RAPPORT_HTTPS, cookies go over HTTPS only and
# browsers are told to keep to HTTPS (HSTS).
SERVED_OVER_HTTPS = env_bool("RAPPORT_HTTPS", False) or env_bool("RAPPORT_BEHIND_PROXY", False)
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and SERVED_OVER_HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SERVED_OVER_HTTPS and not DEBUG else 0)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("RAPPORT_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n -------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at start-up when it is missing

# --- Uploaded and kept files (docs/configuration.md, "File storage") ---------------------------------
_S3_OPTIONS = {"endpoint_url": "endpoint_url", "region": "region_name", "addressing_style": "addressing_style",
               "signature_version": "signature_version"}


def _storage_settings(url: str) -> dict[str, Any]:
    """RAPPORT_STORAGE_URL: empty (files under var/files), file:///path, or
    s3://bucket[/prefix]?endpoint_url=https://…&region=…&addressing_style=path|virtual (credentials from the
    standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables, as boto3 reads them)."""
    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise ConfigurationError("RAPPORT_STORAGE_URL: a folder is file:///absolute/path")
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": parts.path}}
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigurationError("RAPPORT_STORAGE_URL must look like s3://bucket?endpoint_url=https://…&region=… "
                                 "(or file:///path)")
    if parts.username or parts.password:
        raise ConfigurationError("RAPPORT_STORAGE_URL: put credentials in AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY, not in the URL")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - set(_S3_OPTIONS))
    if unknown:
        raise ConfigurationError(f"RAPPORT_STORAGE_URL: unknown option {', '.join(unknown)}; "
                                 f"the options are {', '.join(_S3_OPTIONS)}")
    options: dict[str, Any] = {"bucket_name": parts.netloc, "file_overwrite": False, "default_acl": None,
                               "querystring_auth": True}
    prefix = parts.path.strip("/")
    if prefix:
        options["location"] = prefix
    for name, values in query.items():
        options[_S3_OPTIONS[name]] = values[-1]
    endpoint = options.get("endpoint_url", "")
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ConfigurationError("RAPPORT_STORAGE_URL: endpoint_url must be an http:// or https:// address")
    if options.get("addressing_style", "path") not in ("path", "virtual", "auto"):
        raise ConfigurationError("RAPPORT_STORAGE_URL: addressing_style must be path, virtual or auto")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES = {
    "default": _storage_settings(env_str("RAPPORT_STORAGE_URL")),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The largest file one upload may carry (documents, receipts), in bytes (default 25 MB); the error names it.
RAPPORT_UPLOAD_MAX_BYTES = env_int("RAPPORT_UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
# Calendar and contact sync (docs/sync.md): the largest item or request a client may send (a card with a
# photo), and how long a failed client sign-in waits before it is answered (brute-force brake), in seconds.
RAPPORT_DAV_MAX_BYTES = env_int("RAPPORT_DAV_MAX_BYTES", 10 * 1024 * 1024)
RAPPORT_DAV_FAILED_LOGIN_DELAY = env_int("RAPPORT_DAV_FAILED_LOGIN_DELAY", 1)
# Uploads above this size are spooled to a temporary file rather than held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The non-file part of a request (form fields); files do not count against it. Kept at Django's default.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The most files one form may carry (a drop of many files onto a Files panel).
DATA_UPLOAD_MAX_NUMBER_FILES = 100
WHITENOISE_USE_FINDERS = True

# --- Background work ----------------------------------------------------------
TASKS = {"default": {"BACKEND": env_str("RAPPORT_TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- Mail ---------------------------------------------------------------------


def _email_settings(url: str) -> dict[str, Any]:
    """EMAIL_URL: smtp://user:password@host:587?tls=1, smtps://… (implicit TLS), or console:."""
    if not url or url == "console:":
        return {"EMAIL_BACKEND": env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigurationError("EMAIL_URL must look like smtp://user:password@host:port (or smtps://, console:)")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"tls"})
    if unknown:
        raise ConfigurationError(f"EMAIL_URL: unknown option {', '.join(unknown)}; the only one is tls=1 (STARTTLS)")
    tls_value = query.get("tls", ["0"])[0].lower()
    if tls_value not in ("1", "true", "yes", "0", "false", "no"):
        raise ConfigurationError(f"EMAIL_URL: tls must be 1 or 0, not {tls_value!r}")
    starttls = tls_value in ("1", "true", "yes")
    if parts.scheme == "smtps" and starttls:
        raise ConfigurationError("EMAIL_URL: smtps:// is TLS from the start; drop ?tls=1 (that is for smtp://)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError("EMAIL_URL has a port that is not a number") from None
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": starttls,
        "EMAIL_TIMEOUT": 30,
    }


globals().update(_email_settings(env_str("EMAIL_URL")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "rapport@localhost")
# The address users reach Rapport at, for links in email (support requests): no trailing slash.
RAPPORT_BASE_URL = env_str("RAPPORT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Who owns support items opened by customers' email (a username); else the first support user.
RAPPORT_SUPPORT_OWNER = env_str("RAPPORT_SUPPORT_OWNER", "")

# Inbound mail (docs/mail.md). The domain of every user's logging address (log-<key>@domain); mail to
# RAPPORT_SUPPORT_ADDRESS opens or adds to support items.
RAPPORT_MAIL_DOMAIN = env_str(
    "RAPPORT_MAIL_DOMAIN",
    DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") if "@" in DEFAULT_FROM_EMAIL else "rapport.localhost")
RAPPORT_SUPPORT_ADDRESS = env_str("RAPPORT_SUPPORT_ADDRESS", f"support@{RAPPORT_MAIL_DOMAIN}").lower()
# Where `rapport mail-listen` (and `make run`) accepts SMTP: host:port.
RAPPORT_MAIL_LISTEN = env_str("RAPPORT_MAIL_LISTEN", "127.0.0.1:2525")
# The largest message accepted by the listener or IMAP polling, in bytes (default 25 MB).
RAPPORT_MAIL_MAX_BYTES = env_int("RAPPORT_MAIL_MAX_BYTES", 25 * 1024 * 1024)
# The largest import file, and what an XLSX may unpack to (0: ten times the file limit, at least 500 MB).
RAPPORT_IMPORT_MAX_BYTES = env_int("RAPPORT_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
RAPPORT_IMPORT_MAX_UNPACKED_BYTES = env_int("RAPPORT_IMPORT_MAX_UNPACKED_BYTES", 0) or None
# A mailbox to poll for mail to log: imaps://user:password@host:993/INBOX (empty: no polling).
RAPPORT_IMAP_URL = env_str("RAPPORT_IMAP_URL", "")
# Files Rapport keeps (raw messages, attachments): never served directly, only through views that check rights.
MEDIA_ROOT = VAR_DIR / "files"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

RAPPORT_DEMO_PASSWORD = env_str("RAPPORT_DEMO_PASSWORD", "rapport-demo")
# The currency new opportunities and orders start in (an ISO 4217 code).
RAPPORT_DEFAULT_CURRENCY = env_str("RAPPORT_DEFAULT_CURRENCY", "EUR").upper()
