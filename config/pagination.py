from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class CursorPagination(pagination.CursorPagination):
    """Stable pages however many rows are added meanwhile. A view sets `cursor_ordering` to page
    by its own unique, unchanging field."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):  # noqa: ANN001, ANN201
        ordering = getattr(view, "cursor_ordering", None)
        return tuple(ordering) if ordering else (self.ordering,)

    def decode_cursor(self, request):  # noqa: ANN001, ANN201
        # DRF answers a cursor it cannot read with 404; it is a bad query parameter like any other.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
