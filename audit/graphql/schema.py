"""GraphQL for the audit trail (coalition admins), through the same FilterSet."""

import graphene
from graphene_django import DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField

from audit.filtersets import AuditRecordFilterSet
from audit.models import AuditRecord
from audit.selectors import audit_records
from core.scopes import ADMIN

from core.graphql import require_scopes


class AuditRecordType(DjangoObjectType):
    organization = graphene.String(description="Acting organisation slug.")
    user = graphene.String(description="Username, when a person acted.")
    application = graphene.String(description="OAuth client id.")

    class Meta:
        model = AuditRecord
        name = "AuditRecord"
        fields = ("id", "at", "request_id", "channel", "operation", "action", "object_type",
                  "object_id")
        filterset_class = AuditRecordFilterSet
        use_connection = True
        convert_choices_to_enum = False

    def resolve_organization(self, info):
        return self.organization.slug if self.organization_id else None

    def resolve_user(self, info):
        return self.user.get_username() if self.user_id else None

    def resolve_application(self, info):
        return self.application.client_id if self.application_id else None


class AuditQuery(graphene.ObjectType):
    audit_records = DjangoFilterConnectionField(
        AuditRecordType, description="Every read and write of client data (coalition admins).")

    def resolve_audit_records(root, info, **kwargs):
        return audit_records(require_scopes(info, ADMIN)).order_by("-at", "-id")
