from django.db.models import QuerySet

from core.errors import NotFound

from .models import AuditRecord


def audit_records(principal) -> QuerySet[AuditRecord]:
    """The trail, for coalition admins only (everyone else: it does not exist)."""
    if principal is None or not principal.is_admin:
        raise NotFound()
    return AuditRecord.objects.select_related("organization", "user", "application")
