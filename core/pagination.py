from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
from rest_framework.exceptions import NotFound


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`, at most API_MAX_PAGE_SIZE items a page."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


class CursorPagination(pagination.CursorPagination):
    """DRF's cursor pagination, where a doctored cursor is a 404 like any unreadable one.

    A cursor is base64 the client can edit: a position that is not a valid value of the
    ordering field (or an instant out of range) would otherwise fail in the query."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, OverflowError, TypeError):
            raise NotFound(self.invalid_cursor_message) from None
