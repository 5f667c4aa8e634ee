"""The API documentation views, served from this service (no CDN)."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView


# The documentation UIs set styles from JavaScript; allow that on these two pages only.
docs_csp = method_decorator(csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["data:"]}), name="dispatch")
SchemaView = SpectacularAPIView
SwaggerView = docs_csp(SpectacularSwaggerSplitView)
RedocView = docs_csp(SpectacularRedocView)
