"""What reports count besides referrals: workshops and other service events,
and the grants funders make to grantees."""

import hashlib
import uuid

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F
from django.utils import timezone

from orgs.models import Language, OAuthApplication, Organization, SenateDistrict, ServiceType

from . import fiscal


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
    campaign = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="Events held on the same day under the same title (a workshop in every "
                  "district) share it: reports count them as one campaign.")
    created_by_application = models.ForeignKey(OAuthApplication, null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ServiceEventQuerySet.as_manager()

    @staticmethod
    def campaign_of(day, title: str) -> str:
        """The campaign key: the same for events of the same day and title (case and
        spacing aside), whichever organisation holds them, such as the caucus's
        workshop in every member's district; it carries no more than those two."""
        normal = " ".join(title.casefold().split())
        return hashlib.sha256(f"{day.isoformat()}|{normal}".encode()).hexdigest()

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
    """A funder pays a grantee for services of some types over a period.

    ``fiscal_year`` is the State fiscal year the grant is budgeted in; the
    period is any date range (by default that whole year), and the budget
    request attributes to the grant only the referrals of its service types
    made in its period."""

    funder = models.ForeignKey(Organization, on_delete=models.PROTECT,
                               related_name="grants_made")
    grantee = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                related_name="grants_received")
    fiscal_year = models.CharField(max_length=7, validators=[sfy_label],
                                   help_text="State fiscal year, e.g. 2017-18.")
    period_start = models.DateField(help_text="First day the grant pays for.")
    period_end = models.DateField(help_text="Last day the grant pays for.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    service_types = models.ManyToManyField(
        ServiceType, blank=True, related_name="+",
        help_text="The services the grant funds; none listed: every service.")
    description = models.CharField(max_length=300, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["fiscal_year", "funder__name", "grantee__name", "period_start", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(period_start__lte=F("period_end")),
                                              name="grant_period_in_order")]

    def save(self, *args, **kwargs):
        if self.period_start is None or self.period_end is None:
            first, last = fiscal.sfy_bounds(fiscal.parse_sfy(self.fiscal_year))
            self.period_start = self.period_start or first
            self.period_end = self.period_end or last
        super().save(*args, **kwargs)
