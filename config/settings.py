"""Settings for the Coalition Referral & Reporting API.

Everything that differs between a laptop and production comes from the
environment. ``DJANGO_ENV=production`` turns on the strict mode: it refuses to
start with DEBUG on or without a SECRET_KEY, and turns on the HTTPS settings
that ``manage.py check --deploy`` looks for.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.") from exc


PRODUCTION = os.environ.get("DJANGO_ENV", "development").strip().lower() == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production refuses DEBUG=true: unset DEBUG or set DEBUG=false."
        )
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs SECRET_KEY set to a random value of at least 50 "
            "characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
elif not SECRET_KEY:
    # Development and tests only; production refuses to start without one.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "oauth2_provider",
    "django_htmx",
    "axes",
    "core",
    "orgs",
    "referrals",
    "reporting",
    "audit",
    "webhooks",
    "schema",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.problems.APIErrorMiddleware",
    "audit.middleware.AuditMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
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

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Give up connecting after this many seconds (libpq's minimum is 2), so that while
    # PostgreSQL is unreachable a request gets its 503 quickly instead of hanging.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The quick start's web server and webhook worker write to one file: take the
    # write lock when a transaction begins (no "database is locked" on upgrade), and
    # wait for it rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The staff web app's languages (web/locale); the APIs answer in English.
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's target in production; while developing, assets come from the apps.
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve the Swagger UI / Redoc assets from the installed packages while developing.
WHITENOISE_USE_FINDERS = not PRODUCTION

LOGIN_URL = "/accounts/login/"

# --- Sign-in brute-force protection (django-axes) ----------------------------------
# Every password sign-in (the staff app, the OAuth sign-in page, the admin): after
# AXES_FAILURE_LIMIT failures for one username from one address, that pair is locked
# out for AXES_COOLOFF_MINUTES; a success resets the count. `manage.py axes_reset`
# lifts a lockout early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every manage.py command
# A page of the staff app (its language, its Content-Security-Policy), status 429.
AXES_LOCKOUT_CALLABLE = "web.views.locked_out"
# Behind a proxy, set AXES_IPWARE_META_PRECEDENCE_ORDER (see docs/security.md).

# --- Limits ---------------------------------------------------------------------
# Request bodies over this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 0

# Shared by the API rate limits; set REDIS_URL so that every worker counts together.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- CORS: browsers may call the API only from these origins -------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/(api|graphql|o)/.*$"
CORS_ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key", "if-match",
                      "if-none-match"]
CORS_EXPOSE_HEADERS = ["etag", "location", "retry-after", "idempotent-replayed"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
    },
}

# --- Protected identifiers ------------------------------------------------
# Fernet keys for A-Numbers and dates of birth, newest first; NOT the SECRET_KEY.
# Make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
if not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys, "
            "newest first); see config/settings.py for how to make one.")
    # Development and tests only.
    FIELD_ENCRYPTION_KEYS = ["ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="]

# --- HTTPS and cookies (production) ---------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# Staff web app (web/): a session lasts a working day, and ends with the browser.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Organisations and OAuth2 ----------------------------------------------
AUTH_USER_MODEL = "auth.User"
OAUTH2_PROVIDER_APPLICATION_MODEL = "orgs.OAuthApplication"

SCOPES = {
    "orgs:read": "Read the coalition directory",
    "referrals:read": "Read referrals and clients visible to your organisation",
    "referrals:write": "Create referrals and move them through their statuses",
    "reports:read": "Read aggregate service numbers and budget-request reports",
    "webhooks:manage": "Register webhook endpoints and read their delivery logs",
    "admin": "Coalition administration",
}

OAUTH2_PROVIDER = {
    "SCOPES": SCOPES,
    "DEFAULT_SCOPES": ["orgs:read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 14 * 24 * 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"] if DEBUG else ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "SCOPES_BACKEND_CLASS": "orgs.oauth.CoalitionScopes",
    "APPLICATION_ADMIN_CLASS": "orgs.admin.OAuthApplicationAdmin",
    # RFC 9700 (OAuth 2.0 Security BCP): enforce every compliant behaviour.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# --- REST ---------------------------------------------------------------------
API_MAX_PAGE_SIZE = 100

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["orgs.auth.PrincipalAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["orgs.auth.HasScopes"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "config.openapi.CoalitionAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.negotiation.ContentNegotiation",
    "EXCEPTION_HANDLER": "core.problems.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ApplicationRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"application": os.environ.get("API_RATE_LIMIT", "1200/min")},
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Coalition Referral & Reporting API",
    "DESCRIPTION": (
        "Referrals between the district offices, hotline and partner organisations of "
        "the Immigrant Defense Coalition, and aggregate reports for funders.\n\n"
        "Authenticate with OAuth2: partner systems use client credentials, "
        "interactive clients the authorization code flow with PKCE (S256). "
        "Errors are RFC 9457 problem+json documents with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAUTH2_FLOWS": ["clientCredentials", "authorizationCode"],
    "OAUTH2_AUTHORIZATION_URL": "/o/authorize/",
    "OAUTH2_TOKEN_URL": "/o/token/",
    "OAUTH2_REFRESH_URL": "/o/token/",
    "OAUTH2_SCOPES": SCOPES,
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "orgs.models.OrganizationKind",
        "ReferralStatusEnum": "referrals.models.Status",
        "PriorityEnum": "referrals.models.Priority",
        "IntakeChannelEnum": "referrals.models.IntakeChannel",
        "ContactPreferenceEnum": "referrals.models.ContactPreference",
        "ConsentMethodEnum": "referrals.models.ConsentMethod",
        "OutcomeCodeEnum": "referrals.models.OutcomeCode",
        "EventKindEnum": "referrals.models.EventKind",
        "ReasonCodeEnum": "referrals.models.ReasonCode",
        "AppointmentKindEnum": "referrals.models.AppointmentKind",
        "LocationTypeEnum": "referrals.models.LocationType",
    },
}

# --- The referral loop -------------------------------------------------------
# How long after it closed a completed or failed referral may be reopened.
REFERRAL_REOPEN_WINDOW_DAYS = env_int("REFERRAL_REOPEN_WINDOW_DAYS", 90)

# --- GraphQL ---------------------------------------------------------------
GRAPHENE = {
    "SCHEMA": "schema.schema.schema",
    "RELAY_CONNECTION_MAX_LIMIT": API_MAX_PAGE_SIZE,
    "ATOMIC_MUTATIONS": True,
}
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 10)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 30)
GRAPHQL_MAX_COST = env_int("GRAPHQL_MAX_COST", 25000)
GRAPHQL_MAX_DOCUMENT_BYTES = env_int("GRAPHQL_MAX_DOCUMENT_BYTES", 20000)
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", DEBUG)
GRAPHIQL_ENABLED = DEBUG

# --- Webhooks and the task queue (Celery) ---------------------------------------
# The broker: Redis (REDIS_URL, else the local server) or any Celery broker URL.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "redis://127.0.0.1:6379/0"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "coalition")
CELERY_TASK_IGNORE_RESULT = True
# A message is acknowledged after its task ran, so a killed worker's message returns.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Unacknowledged Redis messages are handed out again after this long.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
}
CELERY_BEAT_SCHEDULE = {
    "webhooks-sweep": {"task": "webhooks.sweep",
                       "schedule": float(env_int("WEBHOOK_SWEEP_SECONDS", 10))},
}
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule"))
# How long a worker holds a delivery (longer than one POST may take, 15 s), and
# after how long a queued delivery that no worker claimed is queued again.
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 60)
WEBHOOK_REQUEUE_SECONDS = env_int("WEBHOOK_REQUEUE_SECONDS", 120)
# Delivery to http:// and to loopback or private addresses: development only.
WEBHOOK_ALLOW_LOCAL_TARGETS = env_bool("WEBHOOK_ALLOW_LOCAL_TARGETS", DEBUG)
if PRODUCTION and WEBHOOK_ALLOW_LOCAL_TARGETS:
    raise ImproperlyConfigured(
        "DJANGO_ENV=production refuses WEBHOOK_ALLOW_LOCAL_TARGETS=true: webhooks would "
        "reach loopback and private addresses (SSRF). Unset it.")

# Paths whose errors are always JSON, never an HTML page.
API_PATH_PREFIXES = ("/api/", "/graphql", "/o/")
