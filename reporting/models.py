"""What reports count besides referrals: workshops and other service events,
and the grants funders make to grantees."""

import uuid

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from orgs.models import Language, OAuthApplication, Organization, SenateDistrict, ServiceType


class ServiceEventKind(models.TextChoices):
    WORKSHOP = "workshop", "Workshop"
    FORUM = "forum", "Forum"
    CLINIC = "clinic", "Clinic"


class ServiceEventQuerySet(models.QuerySet):
    def visible_to(self, principal):
        """An organisation sees its own events; coalition admins all; funders see
        them only through suppressed reports."""
        if principal is None or principal.is_funder:
            return self.none()
        if principal.is_admin:
            return self.all()
        return self.filter(organization=principal.organization)


class ServiceEvent(models.Model):
    """A Know Your Rights workshop, forum or clinic: counted, never attendee data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="service_events")
    kind = models.CharField(max_length=20, choices=ServiceEventKind.choices)
    title = models.CharField(max_length=200)
    date = models.DateField()
    district = models.ForeignKey(SenateDistrict, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    languages = models.ManyToManyField(Language, blank=True, related_name="+")
    attendance = models.PositiveIntegerField(validators=[MinValueValidator(0)])
    created_by_application = models.ForeignKey(OAuthApplication, null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ServiceEventQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "id"]
        indexes = [models.Index(fields=["organization", "date"]), models.Index(fields=["date"])]


sfy_label = RegexValidator(r"^\d{4}-\d{2}$", "A New York State fiscal year, e.g. 2017-18.")


class GrantQuerySet(models.QuerySet):
    def visible_to(self, principal):
        """Funders and grantees see their own grants; coalition admins all."""
        if principal is None:
            return self.none()
        if principal.is_admin:
            return self.all()
        org = principal.organization
        return self.filter(models.Q(funder=org) | models.Q(grantee=org))


class Grant(models.Model):
    """A funder pays a grantee for a New York State fiscal year (April to March)."""

    funder = models.ForeignKey(Organization, on_delete=models.PROTECT,
                               related_name="grants_made")
    grantee = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                related_name="grants_received")
    fiscal_year = models.CharField(max_length=7, validators=[sfy_label],
                                   help_text="State fiscal year, e.g. 2017-18.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    service_types = models.ManyToManyField(ServiceType, blank=True, related_name="+")
    description = models.CharField(max_length=300, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["fiscal_year", "funder__name", "grantee__name"]
        constraints = [models.UniqueConstraint(fields=["funder", "grantee", "fiscal_year"],
                                               name="one_grant_per_funder_grantee_year")]
