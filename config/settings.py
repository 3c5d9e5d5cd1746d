"""Spar's settings: one file, driven by environment variables.

Defaults suit a fresh checkout (debug on, SQLite under var/). Production is switched on by
DEBUG=0, which then demands SECRET_KEY and ALLOWED_HOSTS. Malformed values fail loudly at start-up
rather than being silently replaced by a default.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    items = [part.strip() for part in raw.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"{name} is a comma-separated list with an empty entry: {raw!r}."
        )
    return items


def envbaseurl(name: str, default: str, *, schemes: tuple[str, ...] = ("https",)) -> str:
    """A base address (scheme and host, maybe a path) without credentials, query or fragment,
    returned without its trailing slash."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.hostname:
        wanted = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ImproperlyConfigured(
            f"{name} must be an address starting with {wanted}; got {raw!r}."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be a plain base address, without credentials, ?query or #fragment."
        )
    return raw.rstrip("/")


DEBUG = envbool("DEBUG", True)

if DEBUG:
    # A fixed, clearly insecure key keeps sessions valid across restarts of the dev server.
    SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-spar-development-only-key"
    ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "DEBUG=0 needs SECRET_KEY: at least 50 random characters, for example from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )
    ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DEBUG=0 needs ALLOWED_HOSTS, e.g. ALLOWED_HOSTS=spar.example.org"
        )

CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "core",
    "accounts",
    "casebank",
    "rubrics",
    "interviews",
    "scorecards",
    "groups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that its 400 passes through the headers above; it still runs before the CSRF
    # check reads the body, since views and their process_view hooks come after every __call__.
    "core.middleware.UndecodableFormMiddleware",
    # Turns a sign-in refused by the throttle into our lockout page (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# The room's push stream (interviews/stream.py). A heartbeat every few seconds lets the page see a
# stalled stream (a buffering proxy) and fall back to polling; SQLite's watcher interval sets how
# soon a change is seen; the threads render updates and check new streams, off the event loop.
LIVE_HEARTBEAT_SECONDS = envint("LIVE_HEARTBEAT_SECONDS", 10, minimum=1)
LIVE_WATCH_INTERVAL_MS = envint("LIVE_WATCH_INTERVAL_MS", 100, minimum=10)
LIVE_THREADS = envint("LIVE_THREADS", 2, minimum=1)
# PostgreSQL: how often each process checks that its LISTEN connection still hears (and how long
# it waits for the check); meanwhile a deaf or lost connection's streams are read by polling.
LIVE_LISTEN_CHECK_MS = envint("LIVE_LISTEN_CHECK_MS", 5000, minimum=100)
# Threads per server process for every other request (config/asgi.py), like gunicorn's gthread.
WEB_THREADS = envint("WEB_THREADS", 4, minimum=1)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": [
                "core.templatetags.spar",
                "rubrics.templatetags.scores",
                "django.templatetags.static",
                "django_htmx.templatetags.django_htmx",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise (e.g. postgres://user:pw@host/db).
VAR_DIR = Path(os.environ.get("SPAR_VAR_DIR", BASE_DIR / "var"))
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # With the parameters sent apart from the SQL, psycopg prepares a statement the fifth
        # time a connection runs it, and PostgreSQL stops parsing and planning it each time:
        # about half of the database's CPU for a write (SQLite's driver always does this).
        # `?server_side_binding=false` in the URL turns it off, for a pooler that cannot keep
        # prepared statements (PgBouncer in transaction mode without max_prepared_statements).
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options.setdefault("server_side_binding", True)
        if options["server_side_binding"] is True:
            options.setdefault("prepare_threshold", 5)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "spar.sqlite3"),  # text, like the NAME dj_database_url gives
            # Reusing a thread's connection skips re-running the PRAGMAs on every request: it
            # halves the CPU of the room's unchanged poll (see README, Performance).
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout
                # instead of one failing with "database is locked" when it upgrades a read lock.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": VAR_DIR / "test.sqlite3"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

# Sign-in throttling by django-axes, which counts failures in the database (so every worker
# process sees the same count) for every form that signs in through authenticate(): ours and the
# admin's. A lockout holds one account from one address, so a stranger cannot lock the owner
# out; many accounts failing from one address lock that address (accounts/throttle.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "accounts.throttle.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_LIMIT_PER_IP = envint("LOGIN_FAILURE_LIMIT_PER_IP", 30, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = envint("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout does not restart it: "try again in N minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
# Proxies whose X-Forwarded-For names the client to the throttle; gunicorn.conf.py reads the same
# variable to decide whose X-Forwarded-Proto to believe.
FORWARDED_ALLOW_IPS = envlist("FORWARDED_ALLOW_IPS", [])
for _network in set(FORWARDED_ALLOW_IPS) - {"*"}:
    try:
        ipaddress.ip_network(_network)
    except ValueError:
        raise ImproperlyConfigured(
            f"FORWARDED_ALLOW_IPS lists addresses or networks (or *); got {_network!r}."
        ) from None
AXES_USERNAME_CALLABLE = "accounts.throttle.username_key"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Only failures are kept (and only for the window): no record of every successful sign-in.
AXES_DISABLE_ACCESS_LOG = True

# Mail that a stranger can make Spar send to an account (password reset, and the notice of a
# sign-up with an address in use): at most so many per account, and so many requests per client
# address, in the window. Counted in the database (accounts.models.MailRequest).
ACCOUNT_MAIL_LIMIT = envint("ACCOUNT_MAIL_LIMIT", 3, minimum=1)
ACCOUNT_MAIL_LIMIT_PER_IP = envint("ACCOUNT_MAIL_LIMIT_PER_IP", 10, minimum=1)
ACCOUNT_MAIL_WINDOW_SECONDS = envint("ACCOUNT_MAIL_WINDOW_SECONDS", 60 * 60, minimum=1)

# A self-hosted Jitsi-style server (e.g. https://meet.example.org): new sessions then get a call
# link of their own on it, https://meet.example.org/spar-<128 random bits>. Empty: no default.
CALL_LINK_BASE_URL = envbaseurl("CALL_LINK_BASE_URL", "")
# Where members reach this Spar, for links in e-mails sent outside a request (send_reminders)
# and the calendar files' UIDs, e.g. https://spar.example.org. Empty: mails give the path only.
SITE_URL = envbaseurl("SITE_URL", "", schemes=("https", "http"))

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# E-mail: printed to the console unless an SMTP host is configured.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Spar <spar@localhost>")

# Security headers. The policy allows only our own static files: no inline script or style.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads no cookie: the token travels in hx-headers instead.

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A proxy that terminates TLS sets SECURE_SSL_REDIRECT=0 and forwards X-Forwarded-Proto.
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    if envbool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "spar": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    },
}
