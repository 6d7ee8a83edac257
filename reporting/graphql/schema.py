"""GraphQL for reports, service events and grants: the same selectors and
services as REST, the same suppression."""

from __future__ import annotations

import graphene
from django.db.models import Prefetch
from graphene_django import DjangoObjectType

from core.errors import DomainError
from orgs.models import Language
from core.scopes import REFERRALS_WRITE, REPORTS_READ
from reporting import budget as budget_module
from reporting import presentation, selectors, services
from reporting.models import Grant, ServiceEvent, ServiceEventKind

from core.graphql import enum_value, require_scopes

ReportDimension = graphene.Enum("ReportDimension", [(d.upper(), d) for d in selectors.DIMENSIONS])
ReportPeriod = graphene.Enum("ReportPeriod", [(p.upper(), p) for p in selectors.PERIODS])
ReportMeasure = graphene.Enum("ReportMeasure", [(m.upper(), m) for m in selectors.MEASURES])
ServiceEventKindEnum = graphene.Enum.from_enum(ServiceEventKind, name="ServiceEventKind")
ReportCoarsen = graphene.Enum("ReportCoarsen", [(c.upper(), c) for c in selectors.COARSEN])


class CoarsenStep(graphene.ObjectType):
    dimension = graphene.String(required=True)
    rolled_from = graphene.String(required=True, name="from", description="What was rolled up.")
    to = graphene.String(description="What it became; null: summed over the coalition.")


def _steps(steps: list[dict]) -> list[CoarsenStep]:
    return [CoarsenStep(dimension=s["dimension"], rolled_from=s["from"], to=s["to"])
            for s in steps]


class DimensionValue(graphene.ObjectType):
    name = graphene.String(required=True)
    value = graphene.String(description="null in a total: all values of this dimension.")


class MeasureValue(graphene.ObjectType):
    measure = graphene.String(required=True)
    value = graphene.Float(description="null when suppressed.")
    suppressed = graphene.Boolean(required=True)


def _measure_values(values: dict, measures, suppressed=None) -> list[MeasureValue]:
    """Without a ``suppressed`` set (budget lines hold counts only), null means withheld."""
    return [MeasureValue(measure=m, value=values.get(m),
                         suppressed=(m in suppressed) if suppressed is not None
                         else values.get(m) is None)
            for m in measures]


class ReportEntry(graphene.ObjectType):
    dimensions = graphene.List(graphene.NonNull(DimensionValue), required=True)
    values = graphene.List(graphene.NonNull(MeasureValue), required=True)


class ServiceNumbers(graphene.ObjectType):
    dimensions = graphene.List(graphene.NonNull(graphene.String), required=True,
                               description="The dimensions of the rows, after any roll-up.")
    requested_dimensions = graphene.List(graphene.NonNull(graphene.String), required=True)
    coarsened = graphene.List(graphene.NonNull(CoarsenStep), required=True,
                              description="The roll-ups made (coarsen: AUTO), in order.")
    hidden_share = graphene.Float(
        required=True, description="Share of the suppressible values (people and referrals) "
                                   "hidden.")
    period = graphene.String()
    measures = graphene.List(graphene.NonNull(graphene.String), required=True)
    scope = graphene.List(graphene.NonNull(graphene.String),
                          description="Organisations counted; null for the coalition.")
    date_from = graphene.Date()
    date_to = graphene.Date()
    suppression_applied = graphene.Boolean(required=True)
    rows = graphene.List(graphene.NonNull(ReportEntry), required=True)
    totals = graphene.List(graphene.NonNull(ReportEntry), required=True)


def _entries(entries: list[dict], measures) -> list[ReportEntry]:
    """ReportEntry objects from presentation.report_as_dict's rows or totals."""
    return [ReportEntry(
        dimensions=[DimensionValue(name=n, value=None if v is None else str(v))
                    for n, v in e["dimensions"].items()],
        values=_measure_values(e["values"], measures, set(e["suppressed"]))) for e in entries]


class GrantLine(graphene.ObjectType):
    id = graphene.Int(required=True)
    funder = graphene.String(required=True)
    funder_name = graphene.String(required=True)
    amount = graphene.Decimal(required=True)
    period_start = graphene.Date(required=True)
    period_end = graphene.Date(required=True)
    service_types = graphene.List(graphene.NonNull(graphene.String), required=True,
                                  description="Empty: the grant funds every service.")
    description = graphene.String(required=True)
    values = graphene.List(graphene.NonNull(MeasureValue), required=True,
                           description="The grant's services in its period.")
    cost_per_client_served = graphene.Decimal(
        description="The grant's amount over its own clients served; null if not published.")


class BudgetLine(graphene.ObjectType):
    service_type = graphene.String(description="null: all service types.")
    district = graphene.String(description="null: all districts (or not a dimension).")
    region = graphene.String(description="null: all regions (or not a dimension).")
    current = graphene.List(graphene.NonNull(MeasureValue), required=True)
    previous = graphene.List(graphene.NonNull(MeasureValue), required=True)
    change = graphene.List(graphene.NonNull(MeasureValue), required=True)


class BudgetRequest(graphene.ObjectType):
    organization = graphene.String(required=True)
    organization_name = graphene.String(required=True)
    fiscal_year = graphene.String(required=True)
    previous_fiscal_year = graphene.String(required=True)
    suppression_applied = graphene.Boolean(required=True)
    dimensions = graphene.List(graphene.NonNull(graphene.String), required=True,
                               description="The dimensions of the lines, after roll-up.")
    coarsened = graphene.List(graphene.NonNull(CoarsenStep), required=True)
    hidden_share = graphene.Float(required=True)
    measures = graphene.List(graphene.NonNull(graphene.String), required=True)
    grants = graphene.List(graphene.NonNull(GrantLine), required=True)
    grant_total = graphene.Decimal(required=True)
    cost_per_client_served = graphene.Decimal(
        description="The grantee overall: every grant of the year over every client served.")
    previous_grant_total = graphene.Decimal(required=True)
    previous_cost_per_client_served = graphene.Decimal()
    lines = graphene.List(graphene.NonNull(BudgetLine), required=True)


class ServiceEventType(DjangoObjectType):
    kind = graphene.Field(ServiceEventKindEnum, required=True)
    organization = graphene.String(required=True, description="Organising organisation slug.")
    district = graphene.Int()
    service_type = graphene.String(required=True)
    languages = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = ServiceEvent
        name = "ServiceEvent"
        fields = ("id", "title", "date", "attendance", "campaign", "created_at", "updated_at")

    def resolve_kind(self, info):
        return self.kind

    def resolve_organization(self, info):
        return self.organization.slug

    def resolve_district(self, info):
        return self.district.number if self.district_id else None

    def resolve_service_type(self, info):
        return self.service_type.code

    def resolve_languages(self, info):
        return [language.code for language in self.languages.all()]


class GrantType(DjangoObjectType):
    funder = graphene.String(required=True)
    grantee = graphene.String(required=True)
    service_types = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = Grant
        name = "Grant"
        fields = ("id", "fiscal_year", "period_start", "period_end", "amount", "description")

    def resolve_funder(self, info):
        return self.funder.slug

    def resolve_grantee(self, info):
        return self.grantee.slug

    def resolve_service_types(self, info):
        return [s.code for s in self.service_types.all()]


def service_event_queryset(principal):
    return (ServiceEvent.objects.visible_to(principal)
            .select_related("organization", "service_type", "district")
            .prefetch_related(Prefetch("languages", queryset=Language.objects.order_by("code"))))


class ReportingQuery(graphene.ObjectType):
    service_numbers = graphene.Field(
        ServiceNumbers, required=True,
        dimensions=graphene.List(graphene.NonNull(ReportDimension)),
        period=ReportPeriod(), measures=graphene.List(graphene.NonNull(ReportMeasure)),
        date_from=graphene.Date(), date_to=graphene.Date(), fiscal_year=graphene.String(),
        organizations=graphene.List(graphene.NonNull(graphene.String)),
        districts=graphene.List(graphene.NonNull(graphene.Int)),
        service_types=graphene.List(graphene.NonNull(graphene.String)),
        coarsen=ReportCoarsen(description="AUTO: roll dimensions up until at most "
                                          f"{selectors.MAX_HIDDEN_SHARE:.0%} is suppressed."),
        description="Service numbers by up to three dimensions; suppressed unless your own.")
    budget_request = graphene.Field(BudgetRequest, required=True,
                                    org=graphene.String(required=True),
                                    fiscal_year=graphene.String(required=True),
                                    coarsen=ReportCoarsen(description="Default: AUTO."))
    service_events = graphene.List(graphene.NonNull(ServiceEventType), required=True,
                                   description="Service events your organisation recorded.")
    grants = graphene.List(graphene.NonNull(GrantType), required=True,
                           description="Grants you make or receive.")

    def resolve_service_numbers(root, info, dimensions=None, period=None, measures=None,
                                date_from=None, date_to=None, fiscal_year=None,
                                organizations=None, districts=None, service_types=None,
                                coarsen=None):
        principal = require_scopes(info, REPORTS_READ)
        spec = selectors.ReportSpec(
            dimensions=tuple(enum_value(d) for d in dimensions or ()),
            period=enum_value(period) if period else "sfy",
            measures=tuple(enum_value(m) for m in measures or ()),
            date_from=date_from, date_to=date_to, fiscal_year=fiscal_year,
            organizations=tuple(organizations or ()), districts=tuple(districts or ()),
            service_types=tuple(service_types or ()),
            coarsen=enum_value(coarsen) if coarsen else "none")
        data = presentation.report_as_dict(selectors.service_numbers(principal, spec))
        return ServiceNumbers(**{**data, "coarsened": _steps(data["coarsened"]),
                                 "rows": _entries(data["rows"], data["measures"]),
                                 "totals": _entries(data["totals"], data["measures"])})

    def resolve_budget_request(root, info, org, fiscal_year, coarsen=None):
        principal = require_scopes(info, REPORTS_READ)
        budget = budget_module.budget_request(
            principal, organization=org, fiscal_year=fiscal_year,
            coarsen=enum_value(coarsen) if coarsen else "auto")
        data = presentation.budget_as_dict(budget)
        measures = data.pop("measures")
        grant_measures = data.pop("grant_measures")
        return BudgetRequest(**{
            **data, "measures": measures, "coarsened": _steps(data["coarsened"]),
            "grants": [GrantLine(**{
                **{k: v for k, v in grant.items() if k != "suppressed"},
                "values": _measure_values(grant["values"], grant_measures,
                                          set(grant["suppressed"]))})
                for grant in data["grants"]],
            "lines": [BudgetLine(
                service_type=line["service_type"], region=line["region"],
                district=None if line["district"] is None else str(line["district"]),
                current=_measure_values(line["current"], measures),
                previous=_measure_values(line["previous"], measures),
                change=_measure_values(line["change"], measures)) for line in data["lines"]]})

    def resolve_service_events(root, info):
        return list(service_event_queryset(require_scopes(info, REPORTS_READ)))

    def resolve_grants(root, info):
        principal = require_scopes(info, REPORTS_READ)
        return list(Grant.objects.visible_to(principal).select_related("funder", "grantee")
                    .prefetch_related("service_types"))


class ServiceEventInputType(graphene.InputObjectType):
    kind = ServiceEventKindEnum()
    title = graphene.String(description=services.TITLE.describe())
    date = graphene.Date()
    attendance = graphene.Int(description="How many attended. " + services.ATTENDANCE.describe())
    service_type = graphene.String(description="Default: know-your-rights.")
    district = graphene.Int(description=f"{services.DISTRICT_DEFAULT} "
                                        f"{services.DISTRICT.describe()}")
    languages = graphene.List(graphene.NonNull(graphene.String),
                              description="ISO 639 codes. " + services.LANGUAGES.describe())

    class Meta:
        name = "ServiceEventInput"


def _event_values(data) -> dict:
    values = {k: v for k, v in data.items() if v is not None or k == "district"}
    if "kind" in values:
        values["kind"] = enum_value(values["kind"])
    return values


class CreateServiceEvent(graphene.Mutation):
    class Arguments:
        input = ServiceEventInputType(required=True)

    service_event = graphene.Field(ServiceEventType, required=True)

    @staticmethod
    def mutate(root, info, input):
        principal = require_scopes(info, REFERRALS_WRITE)
        values = _event_values(input)
        missing = [n for n in ("kind", "title", "date", "attendance") if values.get(n) is None]
        if missing:
            raise DomainError("required", f"Missing: {', '.join(missing)}.", field=missing[0])
        values.setdefault("service_type", "know-your-rights")
        event = services.service_event_create(principal=principal,
                                              data=services.ServiceEventInput(**values))
        return CreateServiceEvent(service_event=service_event_queryset(principal).get(pk=event.pk))


class UpdateServiceEvent(graphene.Mutation):
    class Arguments:
        id = graphene.UUID(required=True)
        input = ServiceEventInputType(required=True)

    service_event = graphene.Field(ServiceEventType, required=True)

    @staticmethod
    def mutate(root, info, id, input):
        principal = require_scopes(info, REFERRALS_WRITE)
        values = {k: v for k, v in _event_values(input).items() if k in input}
        event = services.service_event_update(principal=principal, event_id=id, changes=values)
        return UpdateServiceEvent(service_event=service_event_queryset(principal).get(pk=event.pk))


class DeleteServiceEvent(graphene.Mutation):
    class Arguments:
        id = graphene.UUID(required=True)

    deleted_id = graphene.UUID(required=True)

    @staticmethod
    def mutate(root, info, id):
        principal = require_scopes(info, REFERRALS_WRITE)
        services.service_event_delete(principal=principal, event_id=id)
        return DeleteServiceEvent(deleted_id=id)


class ReportingMutation(graphene.ObjectType):
    create_service_event = CreateServiceEvent.Field()
    update_service_event = UpdateServiceEvent.Field()
    delete_service_event = DeleteServiceEvent.Field()

