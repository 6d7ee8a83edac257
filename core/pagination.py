from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound

PAGE_SIZE_HELP = (f"Items per page, from 1; at most {settings.API_MAX_PAGE_SIZE} (larger "
                  "asks are cut to that).")


def page_size_field(**kwargs) -> serializers.IntegerField:
    """``page_size``, wherever a list takes it: a whole number from 1, else a 400 (never
    the default page in silence); more than API_MAX_PAGE_SIZE is cut to that."""
    return serializers.IntegerField(min_value=1, help_text=PAGE_SIZE_HELP, **kwargs)


class PageSizeMixin:
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = page_size_field().run_validation(raw)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({self.page_size_query_param: exc.detail}) from None
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = PAGE_SIZE_HELP
                parameter["schema"]["minimum"] = 1
        return parameters


class PageNumberPagination(PageSizeMixin, pagination.PageNumberPagination):
    """`?page=N&page_size=M`, at most API_MAX_PAGE_SIZE items a page."""

    def get_page_number(self, request, paginator):
        # DRF reads `?page=` as page 1; like any page that is not a number, it is none.
        if request.query_params.get(self.page_query_param) == "":
            raise NotFound("A page is a whole number from 1.")
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class CursorPagination(PageSizeMixin, pagination.CursorPagination):
    """DRF's cursor pagination, where a doctored cursor is a 404 like any unreadable one.

    A cursor is base64 the client can edit: a position that is not a valid value of the
    ordering field (or an instant out of range) would otherwise fail in the query."""

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, OverflowError, TypeError):
            raise NotFound(self.invalid_cursor_message) from None
