"""Settings for authcore: every value comes from the environment (or an optional .env file).

See .env.example for what each variable does.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from authcore.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The .env file is optional; real environment variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
# A developer's machine without a key gets a random one per start (system check
# authcore.W001 says so): sessions and tokens die at each restart, and no key written
# down anywhere can sign a session or a JWT for such a host.
SECRET_KEY_IS_RANDOM = not SECRET_KEY
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Put SECRET_KEY=... in the environment or in .env "
            "(see .env.example); only DEBUG=true may run without one."
        )
    SECRET_KEY = secrets.token_urlsafe(50)
# Signs the API's JWTs; its own variable so that it can be rotated (which ends every
# token) without ending the admin's sessions, and the other way round.
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

# HTTPS only outside DEBUG (`manage.py check --deploy` is the checklist). Behind a proxy
# that ends TLS, SECURE_PROXY_SSL_HEADER names the header it sets, e.g.
# HTTP_X_FORWARDED_PROTO,https; without it the redirect to HTTPS would never end.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Asks browsers to list the domain as HTTPS-only for good: the operator's decision.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = env.tuple("SECURE_PROXY_SSL_HEADER", default=None) or None

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One store shared by every process: login lockouts and throttles counted in a
# per-process memory cache would allow N workers N times the attempts (system check
# authcore.E001 refuses such a cache). Redis when REDIS_URL is set, else a table of the
# database (created by migrate).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="authcore"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "authcore_cache",
        }
    }

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    # Swagger UI and ReDoc from package files: the API docs load nothing from a CDN.
    "drf_spectacular_sidecar",
    "axes",
    "accounts",
    "authcore.security",
    "legacy",
    "natscreds",
]

MIDDLEWARE = [
    # First: every line logged while a request runs carries its id.
    "authcore.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, the API docs') under a production WSGI server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "authcore.urls"
WSGI_APPLICATION = "authcore.wsgi.application"

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
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
# Email is unique case-insensitively (a functional unique constraint), which auth.W004
# cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "accounts.backends.LockoutBackend",
    "accounts.backends.EmailBackend",
]

# Failed logins, counted by django-axes on every path that calls authenticate() with a
# request (the admin, the API, any later one), in the shared cache above. An account
# and a client address are each locked on their own once they reach the limit: guessing
# one account from many addresses, or many accounts from one address, both stop.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_USERNAME_CALLABLE = "accounts.throttling.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_address"
AXES_HTTP_RESPONSE_CODE = 429
# A lockout is not something the admin lists or edits (the attempts live in the cache).
AXES_ENABLE_ADMIN = False

# The strong default comes first: a legacy hash is re-hashed with it at the next
# successful login. The legacy_* hashers only verify hashes copied from the old tables.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    # Django's bcrypt$ rows, but a > 72-byte password is truncated as bcrypt < 5 did,
    # instead of the ValueError bcrypt 5 raises (a server error at login).
    "accounts.hashers.TruncatingBCryptPasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.LegacyBcryptPasswordHasher",
    "accounts.hashers.LegacyArgon2PasswordHasher",
    "accounts.hashers.PasslibPBKDF2SHA256PasswordHasher",
    "accounts.hashers.WerkzeugPBKDF2PasswordHasher",
    "accounts.hashers.WerkzeugScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.BearerApiKeyAuthentication",
        # simplejwt's, refusing an access token ended by a fastapi-users style logout.
        "accounts.api.jwt.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Every attempt at the API's login, right or wrong, per client address, in the shared
    # cache (failed ones are also counted by django-axes, above).
    # Sign-up, verification, password reset and change count the same way under their
    # own name (accounts.throttling.AccountRateThrottle), LOGIN_THROTTLE_RATE unless set.
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("LOGIN_THROTTLE_RATE", default="10/min"),
        "account": env.str("ACCOUNT_THROTTLE_RATE", default="")
        or env.str("LOGIN_THROTTLE_RATE", default="10/min"),
    },
    # Proxies in front of the site: only then is X-Forwarded-For trusted to tell clients
    # apart; with 0 a client cannot dodge the throttle or the lockout by sending its own
    # header. The lockout reads the address the same way (accounts.throttling).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    # From the password login: a rotated refresh token keeps its login's expiry
    # (accounts.tokens.RefreshToken).
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Every token carries a digest of the password hash it was issued under: a password
    # changed by any path (admin, API, --sync's SQL) ends the access tokens, and
    # accounts.tokens the refresh tokens.
    "CHECK_REVOKE_TOKEN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": JWT_SIGNING_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "authcore API",
    "DESCRIPTION": "Consolidated accounts: API keys, JWT login, tenants.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation lists the errors it can answer (401, 403, 404, 400, 429).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.api.schema.add_error_responses",
    ],
}

# Accounts: sign-up, verification, password reset.
# Sign-up through /api/auth/signup and /fu_auth/register; off, both answer 403.
REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", default=True)
# Where the links in emails point: the front end's pages /verify-email, /reset-password
# and /signup read the token (or address) from the query string.
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:8000").rstrip("/")
# Seconds a password-reset link, and an email-verification link, stays good.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=3 * 24 * 3600)
# Days a tenant invitation can be accepted.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# Emails of one kind (verification, reset, ...) one address receives per hour at most,
# whoever asks: the flows can't be used to flood a mailbox.
ACCOUNT_EMAILS_PER_HOUR = env.int("ACCOUNT_EMAILS_PER_HOUR", default=5)

# Emails through Django's email framework: printed on the console by default,
# SMTP with e.g. EMAIL_URL=smtp+tls://user:password@smtp.example.com:587.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="authcore <noreply@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the static files WhiteNoise serves (`make serve` runs it).
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies made by collectstatic; a file collectstatic never saw is still
    # served by its plain name rather than breaking the page.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Legacy tables, by their name in legacy-schema.md. A deployment whose tables are named
# differently sets LEGACY_TABLE_<KEY>, e.g. LEGACY_TABLE_USERS=auth_users. The names are
# checked as SQL identifiers (system check legacy.E001) and always quoted in SQL.
LEGACY_TABLE_KEYS = (
    "clients",
    "users",
    "user_api_keys",
    "user",
    "user_api_key",
    "user_profile",
    "user_session",
    "fu_users",
    "nats_account",
    "nats_user_credential",
    "nats_auth_session",
)
LEGACY_TABLES = {
    key: env.str(f"LEGACY_TABLE_{key.upper()}", default=key) for key in LEGACY_TABLE_KEYS
}

# Old services that confirmed addresses before an account could be used (source names,
# comma-separated: auth_service, shared_models, fastapi_users). A merged row of an
# unlisted source, without its own proof (fu_users.is_verified), grants nothing: its
# keys, sessions, NATS credentials, memberships and profile are held for review
# (system check legacy.E003 names an unknown source).
LEGACY_VERIFIED_SOURCES = env.list("LEGACY_VERIFIED_SOURCES", default=[])

# Legacy rows per unit of work of the copy (one transaction each outside migrate).
LEGACY_COPY_CHUNK_ROWS = env.int("LEGACY_COPY_CHUNK_ROWS", default=50_000)
# Rows one step of the copy inserts before it sets its tables' foreign keys aside and
# checks them once afterwards (PostgreSQL, outside migrate; legacy/engine/foreign_keys.py).
LEGACY_COPY_SUSPEND_FK_ROWS = env.int("LEGACY_COPY_SUSPEND_FK_ROWS", default=100_000)

# An unfiltered admin list of a PostgreSQL table past this many rows shows the planner's
# estimate ("about N") instead of counting every row (authcore/lib/admin_lists.py).
ADMIN_COUNT_ESTIMATE_ABOVE = env.int("ADMIN_COUNT_ESTIMATE_ABOVE", default=500_000)

# JSON lines (python-json-logger) with a request id on each, or text: LOG_FORMAT is
# json, text, or auto (text when stderr is a terminal). LOG_LEVEL is authcore's own.
LOGGING = logging_config(
    env.str("LOG_FORMAT", default="auto"),
    level=env.str("LOG_LEVEL", default="INFO"),
    legacy_level=env.str("LEGACY_LOG_LEVEL", default="WARNING"),
)
