"""The coalition directory: organisations, what they offer, who works there.

Also the swapped OAuth2 application model, so that every client application
belongs to exactly one organisation.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from oauth2_provider.models import AbstractApplication


class OrganizationKind(models.TextChoices):
    DISTRICT_OFFICE = "district_office", "District office"
    CAUCUS = "caucus", "Caucus"
    HOTLINE = "hotline", "Hotline"
    LEGAL_NONPROFIT = "legal_nonprofit", "Legal-service nonprofit"
    COMMUNITY_GROUP = "community_group", "Community group"
    LAW_FIRM = "law_firm", "Law firm"
    FUNDER = "funder", "Funder"


class Role(models.TextChoices):
    INTAKE = "intake", "Intake"
    CASEWORKER = "caseworker", "Caseworker"
    ORG_ADMIN = "org_admin", "Organisation admin"
    FUNDER_ANALYST = "funder_analyst", "Funder analyst"
    COALITION_ADMIN = "coalition_admin", "Coalition admin"


class ServiceType(models.Model):
    """One entry of the coalition's service taxonomy; `code` is a stable public id."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SenateDistrict(models.Model):
    """A New York State Senate district (1 to 63)."""

    number = models.PositiveSmallIntegerField(
        unique=True, validators=[MinValueValidator(1), MaxValueValidator(63)]
    )
    region = models.SlugField(
        max_length=40, blank=True,
        help_text="Borough in New York City, region outside it (orgs.coalition.REGIONS); "
                  "reports roll districts up to it.")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"SD {self.number}"


iso_639_code = RegexValidator(r"^[a-z]{2,3}$", "Use an ISO 639-1 or 639-3 code, e.g. 'es'.")


class Language(models.Model):
    """A language by ISO 639 code (639-1 where one exists, else 639-3)."""

    code = models.CharField(max_length=3, unique=True, validators=[iso_639_code])
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=32, choices=OrganizationKind.choices)
    senate_districts = models.ManyToManyField(
        SenateDistrict, blank=True, related_name="organizations"
    )
    languages = models.ManyToManyField(Language, blank=True, related_name="organizations")
    service_types = models.ManyToManyField(
        ServiceType, blank=True, related_name="organizations"
    )
    accepting_referrals = models.BooleanField(default=False)
    # Open Referral HSDS 3.1 service_capacity: how many more clients it can take now.
    capacity_available = models.PositiveIntegerField(null=True, blank=True)
    capacity_maximum = models.PositiveIntegerField(null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address_street = models.CharField(max_length=200, blank=True)
    address_city = models.CharField(max_length=100, blank=True)
    address_region = models.CharField(max_length=50, blank=True, default="NY")
    address_postal_code = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity_available__isnull=True)
                | models.Q(capacity_maximum__isnull=True)
                | models.Q(capacity_available__lte=models.F("capacity_maximum")),
                name="org_capacity_available_within_maximum",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user works for one organisation, in one role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"


class OAuthApplication(AbstractApplication):
    """An OAuth2 client; it always acts for exactly one organisation."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="oauth_applications"
    )
    # Space-separated scopes this client may ask for (a subset of what its org may hold).
    allowed_scopes = models.CharField(max_length=255)

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    @property
    def allowed_scope_set(self) -> frozenset[str]:
        return frozenset(self.allowed_scopes.split())
