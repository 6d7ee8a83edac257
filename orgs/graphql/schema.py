"""GraphQL for the coalition directory; reads go through orgs.selectors and
orgs.filtersets, exactly as the REST views do."""

import graphene
from graphene import relay
from graphene_django import DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField

from orgs.filtersets import OrganizationFilterSet
from orgs.models import Organization, OrganizationKind, ServiceType
from core.scopes import ORGS_READ
from orgs.selectors import organization_list, service_type_list

from core.graphql import CoalitionError, require_scopes

OrganizationKindEnum = graphene.Enum.from_enum(OrganizationKind, description="Kind of organisation")


class ServiceTypeNode(DjangoObjectType):
    class Meta:
        model = ServiceType
        name = "ServiceType"
        fields = ("code", "name", "description")


class Capacity(graphene.ObjectType):
    available = graphene.Int(description="Clients it can take now.")
    maximum = graphene.Int(description="Clients it can take at most.")


class Address(graphene.ObjectType):
    street = graphene.String(required=True)
    city = graphene.String(required=True)
    region = graphene.String(required=True)
    postal_code = graphene.String(required=True)


class OrganizationNode(DjangoObjectType):
    kind = graphene.Field(OrganizationKindEnum, required=True)
    senate_districts = graphene.List(graphene.NonNull(graphene.Int), required=True,
                                     description="New York State Senate districts served.")
    languages = graphene.List(graphene.NonNull(graphene.String), required=True,
                              description="ISO 639 codes of languages spoken.")
    service_types = graphene.List(graphene.NonNull(ServiceTypeNode), required=True)
    capacity = graphene.Field(Capacity, required=True)
    address = graphene.Field(Address, required=True)

    class Meta:
        model = Organization
        name = "Organization"
        interfaces = (relay.Node,)
        fields = ("id", "slug", "name", "kind", "accepting_referrals", "phone", "email",
                  "active", "created_at", "updated_at")
        filterset_class = OrganizationFilterSet

    # These read the rows prefetched by orgs.selectors.organization_list().
    def resolve_kind(self, info):
        return self.kind

    def resolve_senate_districts(self, info):
        return [d.number for d in self.senate_districts.all()]

    def resolve_languages(self, info):
        return [language.code for language in self.languages.all()]

    def resolve_service_types(self, info):
        return list(self.service_types.all())

    def resolve_capacity(self, info):
        return Capacity(available=self.capacity_available, maximum=self.capacity_maximum)

    def resolve_address(self, info):
        return Address(street=self.address_street, city=self.address_city,
                       region=self.address_region, postal_code=self.address_postal_code)

    @classmethod
    def get_node(cls, info, id):
        require_scopes(info, ORGS_READ)
        return organization_list().filter(pk=id).first()


class Caller(graphene.ObjectType):
    """Who the token acts for."""

    organization = graphene.Field(OrganizationNode, required=True)
    scopes = graphene.List(graphene.NonNull(graphene.String), required=True)
    client_id = graphene.String()
    username = graphene.String(description="The person acting; null for a system.")


class OrgsQuery(graphene.ObjectType):
    me = graphene.Field(Caller, required=True, description="Who this token acts for.")
    organizations = DjangoFilterConnectionField(
        OrganizationNode, description="The coalition directory, filtered and ordered."
    )
    organization = graphene.Field(OrganizationNode, slug=graphene.String(required=True))
    service_types = graphene.List(graphene.NonNull(ServiceTypeNode), required=True,
                                  description="The service-type taxonomy.")

    def resolve_me(root, info):
        principal = info.context.principal
        return Caller(organization=principal.organization, scopes=sorted(principal.scopes),
                      client_id=principal.application.client_id if principal.application
                      else None,
                      username=principal.user.get_username() if principal.user else None)

    def resolve_organizations(root, info, **kwargs):
        require_scopes(info, ORGS_READ)
        return organization_list()

    def resolve_organization(root, info, slug):
        require_scopes(info, ORGS_READ)
        organization = organization_list().filter(slug=slug).first()
        if organization is None:
            raise CoalitionError(f"No organisation with slug {slug!r}.", code="not_found")
        return organization

    def resolve_service_types(root, info):
        require_scopes(info, ORGS_READ)
        return list(service_type_list())
