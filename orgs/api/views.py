from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.routing import SLUG_PATTERN

from ..filtersets import OrganizationFilterSet, ServiceTypeFilterSet
from ..policy import ORGS_READ
from ..selectors import organization_list, service_type_list
from .serializers import CallerSerializer, OrganizationSerializer, ServiceTypeSerializer


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


class CallerView(APIView):
    """Any valid token may ask whom it acts for (no scope needed)."""

    required_scopes: list[str] = []

    @extend_schema(summary="Who this token acts for (organisation, scopes)",
                   responses={200: CallerSerializer})
    def get(self, request):
        return Response(CallerSerializer(request.auth).data)
