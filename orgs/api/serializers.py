from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Organization, OrganizationKind, ServiceType


class ServiceTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceType
        fields = ["code", "name", "description"]


class CapacitySerializer(serializers.Serializer):
    available = serializers.IntegerField(allow_null=True, help_text="Clients it can take now.")
    maximum = serializers.IntegerField(allow_null=True, help_text="Clients it can take at most.")


class AddressSerializer(serializers.Serializer):
    street = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()


class OrganizationSerializer(serializers.ModelSerializer):
    senate_districts = serializers.SerializerMethodField(
        help_text="New York State Senate districts served.")
    languages = serializers.SerializerMethodField(help_text="ISO 639 codes of languages spoken.")
    service_types = serializers.SerializerMethodField(help_text="Codes of service types offered.")
    capacity = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    # Not an EmailField: it is empty when unknown, which format "email" would refuse.
    email = serializers.CharField(read_only=True, help_text="Empty when not known.")

    class Meta:
        model = Organization
        fields = [
            "slug", "name", "kind", "senate_districts", "languages", "service_types",
            "accepting_referrals", "capacity", "phone", "email", "address", "active",
            "created_at", "updated_at",
        ]
        read_only_fields = fields

    # The lists read the prefetched rows (see orgs.selectors), never a new query.
    def get_senate_districts(self, obj) -> list[int]:
        return [d.number for d in obj.senate_districts.all()]

    def get_languages(self, obj) -> list[str]:
        return [language.code for language in obj.languages.all()]

    def get_service_types(self, obj) -> list[str]:
        return [s.code for s in obj.service_types.all()]

    @extend_schema_field(CapacitySerializer)
    def get_capacity(self, obj):
        return {"available": obj.capacity_available, "maximum": obj.capacity_maximum}

    @extend_schema_field(AddressSerializer)
    def get_address(self, obj):
        return {
            "street": obj.address_street,
            "city": obj.address_city,
            "region": obj.address_region,
            "postal_code": obj.address_postal_code,
        }


class CallerSerializer(serializers.Serializer):
    """Who a token acts for: what a partner system needs to know about itself."""

    organization = serializers.SlugField(source="organization.slug",
                                         help_text="The organisation the token acts for.")
    organization_name = serializers.CharField(source="organization.name")
    organization_kind = serializers.ChoiceField(choices=OrganizationKind.choices,
                                                source="organization.kind")
    scopes = serializers.SerializerMethodField(help_text="Scopes this token holds.")
    client_id = serializers.CharField(source="application.client_id", allow_null=True)
    username = serializers.SerializerMethodField(
        help_text="The person acting, for an authorization-code token; null for a system.")

    def get_scopes(self, principal) -> list[str]:
        return sorted(principal.scopes)

    def get_username(self, principal) -> str | None:
        return principal.user.get_username() if principal.user else None
