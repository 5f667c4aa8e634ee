"""Production settings: everything in settings.py plus HTTPS-only cookies, HSTS and
refusal to start with development keys."""

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F403
from config.settings import DEV_FIELD_KEY, DEV_PNR_PEPPER, DEV_SECRET_KEY, ENV

DEBUG = False

for _name, _value, _dev in [
    ("SECRET_KEY", SECRET_KEY, DEV_SECRET_KEY),  # noqa: F405
    ("STEGVIS_PNR_PEPPER", PNR_PEPPER, DEV_PNR_PEPPER),  # noqa: F405
]:
    if _value == _dev:
        raise ImproperlyConfigured(f"{_name} must be set in production")
if DEV_FIELD_KEY in FIELD_ENCRYPTION_KEYS:  # noqa: F405
    raise ImproperlyConfigured("STEGVIS_FIELD_KEYS must be set in production (no development key)")
if not ENV.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production")

REQUIRE_TWO_FACTOR = True  # never off in production
# Behind the TLS proxy (as SECURE_PROXY_SSL_HEADER below assumes): the client's address for the API's
# per-IP rate limit is the one that proxy appends to X-Forwarded-For, not the proxy's own.
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": int(ENV.get("STEGVIS_NUM_PROXIES", "1"))}  # noqa: F405
SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Secure-sessionid"
CSRF_COOKIE_NAME = "__Secure-csrftoken"
