from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from config.routing import SLUG_PATTERN

from ..filtersets import OrganizationFilterSet, ServiceTypeFilterSet
from ..policy import ORGS_READ
from ..selectors import organization_list, service_type_list
from .serializers import OrganizationSerializer, ServiceTypeSerializer


@extend_schema_view(
    list=extend_schema(summary="List organisations of the coalition directory"),
    retrieve=extend_schema(summary="Get one organisation by slug"),
)
class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    required_scopes = [ORGS_READ]

    def get_queryset(self):
        return organization_list()


@extend_schema_view(
    list=extend_schema(summary="List the service-type taxonomy"),
    retrieve=extend_schema(summary="Get one service type by code"),
)
class ServiceTypeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ServiceTypeSerializer
    filterset_class = ServiceTypeFilterSet
    lookup_field = "code"
    lookup_value_regex = SLUG_PATTERN
    required_scopes = [ORGS_READ]
    pagination_class = None

    def get_queryset(self):
        return service_type_list()
