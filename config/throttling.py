"""The API's rate limits (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]), in a module of their own:
DRF imports them while it defines APIView, so this module must not import rest_framework.views."""

import hashlib
import logging
import math

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


class _WindowThrottle(SimpleRateThrottle):
    """A request count per fixed window (a clock hour for "…/hour") in the Django cache: one atomic
    increment a request, whatever the rate, where DRF's own throttles read and rewrite a list of every
    request's time (racy between processes, and as long as the rate is high).

    The rate is read when the request comes (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]), not
    when the class was imported, so a changed setting applies at once. Without a cache to count in
    (Redis down) requests pass: a reading submitted during an outage must still be stored."""

    wait_seconds = 0.0

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: object) -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        key = f"{ident}_{window}"
        try:
            try:
                count = self.cache.incr(key)
            except ValueError:  # the window's first request
                count = 1 if self.cache.add(key, 1, self.duration + 60) else self.cache.incr(key)
        except Exception:  # whatever the cache backend raises when it cannot be reached
            logger.warning("API rate limit not counted: the cache did not answer", exc_info=True)
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return math.ceil(self.wait_seconds)


class UserThrottle(_WindowThrottle, UserRateThrottle):
    """Per user (rate "user"); a request without a user counts per IP address."""

    scope = "user"


class IpThrottle(_WindowThrottle):
    """Per IP address (rate "ip"), whoever sends the request: many users or keys from one address add
    up. The address is REMOTE_ADDR, or with REST_FRAMEWORK["NUM_PROXIES"] the one our proxy appended
    to X-Forwarded-For (what a client puts there itself is ignored).

    Like every DRF throttle it counts requests that got through authentication and the permission
    check: a request with a bad key or none is refused (401/403) before it is counted."""

    scope = "ip"

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicAnswerThrottle(_WindowThrottle):
    """New answers sent to one public link (an anonymous survey or a self-assessment link) from one
    device, known by its IP address as IpThrottle knows it, per clock hour (rate "public_answers").
    For the pages without an account, which DRF's throttles do not cover. The link is in the key as
    a hash, never as the token itself. A link also takes no more answers than it can: one for a
    self-assessment link, the number asked for a survey (surveys.satisfaction)."""

    scope = "public_answers"

    def __init__(self, token: str) -> None:
        super().__init__()
        self.link = hashlib.sha256(token.encode()).hexdigest()[:24]

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": f"{self.get_ident(request)}-{self.link}"}
