from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.pagination import CursorPagination
from core.scopes import ADMIN
from core.renderers import CSVRenderer

from ..filtersets import AuditRecordFilterSet
from ..models import AuditRecord
from ..selectors import audit_records

EXPORT_MAX_ROWS = 10_000
CSV_COLUMNS = ["at", "request_id", "organization", "user", "application", "channel",
               "operation", "action", "object_type", "object_id"]


class AuditRecordSerializer(serializers.ModelSerializer):
    # Null for system actions, and for client-credentials tokens (no user).
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True,
                                                allow_null=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    application = serializers.SlugRelatedField(slug_field="client_id", read_only=True,
                                               allow_null=True)

    class Meta:
        model = AuditRecord
        fields = ["id"] + CSV_COLUMNS
        read_only_fields = fields


class AuditPagination(CursorPagination):
    ordering = ("-at", "-id")
    page_size = 50


@extend_schema_view(list=extend_schema(
    summary="The audit trail (coalition admins)",
    description="Every read and write of client data. `format=csv` exports up to "
                f"{EXPORT_MAX_ROWS:,} rows, newest first; narrow with since/until.",
    responses={200: AuditRecordSerializer(many=True),
               (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)}))
class AuditRecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AuditRecordSerializer
    filterset_class = AuditRecordFilterSet
    pagination_class = AuditPagination
    renderer_classes = [JSONRenderer, CSVRenderer]
    required_scopes = [ADMIN]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return AuditRecord.objects.none()
        return audit_records(self.request.auth)

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            queryset = self.filter_queryset(self.get_queryset()).order_by("-at", "-id")
            rows = AuditRecordSerializer(queryset[:EXPORT_MAX_ROWS], many=True).data
            return Response({"table": (CSV_COLUMNS, [[row[c] for c in CSV_COLUMNS]
                                                     for row in rows]),
                             "filename": "audit-trail.csv"})
        return super().list(request, *args, **kwargs)
