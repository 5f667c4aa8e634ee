"""The API's rate limits (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]), in a module of their own:
DRF imports them while it defines APIView, so this module must not import rest_framework.views."""

import hashlib
import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # annotations only: at run time the import would be circular (see above)
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class _WindowThrottle(SimpleRateThrottle):
    """A request count per fixed window (a clock hour for "…/hour") in the Django cache: one atomic
    increment a request, whatever the rate, where DRF's own throttles read and rewrite a list of every
    request's time (racy between processes, and as long as the rate is high).

    The rate is read when the request comes (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]), not
    when the class was imported, so a changed setting applies at once. Without a cache to count in
    (Redis down) requests pass: a reading submitted during an outage must still be stored."""

    scope: str
    # Set by SimpleRateThrottle.__init__ from the rate, both None without one; the stubs leave them out.
    num_requests: int | None
    duration: int | None
    wait_seconds = 0.0

    def get_rate(self) -> str | None:
        # The stubs type the rates as numbers; they are DRF's rate strings, such as "100/hour".
        rates = cast(Mapping[str, str | None], api_settings.DEFAULT_THROTTLE_RATES)
        return rates.get(self.scope)

    def allow_request(self, request: Request, view: "APIView") -> bool:
        return self._counted_within_rate(self.get_cache_key(request, view))

    def _counted_within_rate(self, ident: str | None) -> bool:
        """Counts a request under ident in the current window: False when it is one too many. Without
        a rate for the scope, or an ident to count under (DRF's "not throttled"), it is not counted."""
        if self.num_requests is None or self.duration is None or ident is None:
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

    def get_cache_key(self, request: Request, view: "APIView") -> str:
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

    def allow(self, request: HttpRequest) -> bool:
        """allow_request for the public pages, which are plain Django views (DRF's throttles see only
        DRF's views): True while the device is within the rate."""
        # DRF's get_ident reads only request.META, which a Django request has as DRF's has; its stub asks
        # for DRF's Request.
        device = self.get_ident(request)  # type: ignore[arg-type]
        return self._counted_within_rate(self.cache_format % {"scope": self.scope, "ident": f"{device}-{self.link}"})
