"""Settings for the benchmark server: the product's settings plus a URL conf with a trivial view."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
