from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages however many rows are added meanwhile. A view sets `cursor_ordering` to page
    by its own unique, unchanging field."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):  # noqa: ANN001, ANN201
        ordering = getattr(view, "cursor_ordering", None)
        return tuple(ordering) if ordering else (self.ordering,)
