"""The product's URLs plus /bench/trivial/, the baseline the report and submission figures are divided by.

The trivial view goes through the same middleware, authentication and permission check as the API
(DRF APIView, IsAuthenticated) and does nothing else, so a ratio to it measures the work of a view."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product_urlpatterns


class TrivialApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/trivial/", TrivialApi.as_view(), name="bench_trivial"), *product_urlpatterns]
