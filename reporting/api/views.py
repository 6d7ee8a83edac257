"""REST for reports, service events and grants: parse, call, render."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.routing import UUID_PATTERN
from core.serializers import DomainChoiceField, RequiredTextField, TextField
from orgs.models import Language
from core.scopes import REFERRALS_WRITE, REPORTS_READ

from .. import budget as budget_module
from .. import presentation, selectors, services
from ..models import Grant, ServiceEvent, ServiceEventKind
from core.renderers import CSVRenderer, PrintableHTMLRenderer


class CommaListField(serializers.ListField):
    """A list from repeated query parameters or one comma-separated value."""

    # ``uniqueItems`` in the OpenAPI document (config.openapi): a value may appear once.
    unique_items = False

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        items = [part.strip() for value in data for part in str(value).split(",") if part.strip()]
        return super().to_internal_value(items)


class UniqueCommaListField(CommaListField):
    unique_items = True


class ServiceNumbersQuerySerializer(serializers.Serializer):
    dimensions = UniqueCommaListField(child=DomainChoiceField(choices=selectors.DIMENSIONS),
                                required=False, default=list,
                                validators=selectors.DIMENSIONS_LIMIT.validators(),
                                help_text=f"Up to {selectors.MAX_DIMENSIONS}, comma-separated.")
    period = DomainChoiceField(choices=selectors.PERIODS, default="sfy",
                               help_text="Granularity of the period dimension.")
    measures = CommaListField(child=DomainChoiceField(choices=selectors.MEASURES),
                              required=False, default=list,
                              help_text="Default: every measure the dimensions allow.")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    fiscal_year = TextField(required=False, validators=selectors.FISCAL_YEAR.validators(),
                            help_text="2017-18 (State, Apr-Mar) or NYC FY2018.")
    organizations = CommaListField(child=TextField(), required=False, default=list,
                                   validators=selectors.ORGANIZATIONS.validators())
    districts = CommaListField(
        child=serializers.IntegerField(validators=selectors.DISTRICT.validators()),
        required=False, default=list, validators=selectors.DISTRICTS.validators())
    service_types = CommaListField(child=TextField(), required=False, default=list,
                                   validators=selectors.SERVICE_TYPES.validators())
    coarsen = DomainChoiceField(
        choices=selectors.COARSEN, default="none",
        help_text="auto: roll dimensions up (district -> region -> coalition, month -> quarter "
                  f"-> year) until at most {selectors.MAX_HIDDEN_SHARE:.0%} of the values are "
                  "suppressed; the response lists what was rolled up.")

    def to_internal_value(self, data):
        # QueryDict: hand lists over for the repeatable parameters.
        if hasattr(data, "getlist"):
            data = {key: (data.getlist(key) if key in {"dimensions", "measures", "organizations",
                                                      "districts", "service_types"}
                          else data.get(key)) for key in data}
        return super().to_internal_value(data)


class ReportEntrySerializer(serializers.Serializer):
    dimensions = serializers.DictField(help_text="Dimension values; null in a total means all.")
    values = serializers.DictField(help_text="Measure values; null when suppressed.")
    suppressed = serializers.ListField(child=serializers.CharField())


class CoarsenStepSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    # Declared as in the dicts the report builds ("from" is a Python keyword).
    to = serializers.CharField(allow_null=True,
                               help_text="What it became; null: summed over the coalition.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(help_text="What was rolled up.")
        return fields


class ServiceNumbersSerializer(serializers.Serializer):
    dimensions = serializers.ListField(child=serializers.CharField(),
                                       help_text="The dimensions of the rows, after any roll-up.")
    requested_dimensions = serializers.ListField(child=serializers.CharField())
    coarsened = CoarsenStepSerializer(many=True, help_text="The roll-ups made, in order.")
    hidden_share = serializers.FloatField(
        help_text="Share of the suppressible values (people and referrals) hidden.")
    period = serializers.CharField(allow_null=True)
    measures = serializers.ListField(child=serializers.CharField())
    scope = serializers.ListField(child=serializers.CharField(), allow_null=True,
                                  help_text="Organisations counted; null for the coalition.")
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    suppression_applied = serializers.BooleanField()
    rows = ReportEntrySerializer(many=True)
    totals = ReportEntrySerializer(many=True)


class ServiceNumbersView(APIView):
    required_scopes = [REPORTS_READ]
    renderer_classes = [JSONRenderer, CSVRenderer]
    problem_codes = ("too_many_dimensions", "invalid_dimension", "invalid_measure",
                     "measure_not_applicable", "invalid_period", "invalid_coarsen", "invalid_fiscal_year",
                     "invalid_date_range", "unknown_district", "unknown_organization",
                     "too_long", "too_many_items", "report_scope_denied")

    @extend_schema(
        summary="Service numbers, by up to three dimensions",
        description="Counts from 1 to 10 (and complementary cells) are suppressed unless the "
                    "numbers are your organisation's own. Add `format=csv` for CSV.",
        parameters=[ServiceNumbersQuerySerializer],
        responses={200: ServiceNumbersSerializer,
                   (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        query = ServiceNumbersQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        spec = selectors.ReportSpec(
            dimensions=tuple(params["dimensions"]), period=params["period"],
            measures=tuple(params["measures"]), date_from=params.get("date_from"),
            date_to=params.get("date_to"), fiscal_year=params.get("fiscal_year"),
            organizations=tuple(params["organizations"]),
            districts=tuple(params["districts"]), service_types=tuple(params["service_types"]),
            coarsen=params["coarsen"])
        report = selectors.service_numbers(request.auth, spec)
        if request.accepted_renderer.format == "csv":
            return Response({"table": presentation.report_table(report),
                             "filename": "service-numbers.csv"})
        return Response(presentation.report_as_dict(report))


class BudgetQuerySerializer(serializers.Serializer):
    org = RequiredTextField(help_text="The grantee organisation's slug.")
    fiscal_year = TextField(validators=selectors.FISCAL_YEAR.validators(),
                            help_text="State fiscal year, e.g. 2017-18.")
    coarsen = DomainChoiceField(choices=selectors.COARSEN, default="auto",
                                help_text="auto (default): districts rolled up to regions or "
                                          "the coalition where too small to publish.")


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1, "maximum": 63},
                               {"type": "string", "enum": [selectors.UNKNOWN]}],
                     "nullable": True})
class DistrictValueField(serializers.Field):
    """A senate district number, or "unknown" for referrals without one."""

    def to_representation(self, value):
        return value


class BudgetLineSerializer(serializers.Serializer):
    service_type = serializers.CharField(allow_null=True, help_text="null: all service types.")
    district = DistrictValueField(help_text="null: all districts (or not a dimension).")
    region = serializers.CharField(allow_null=True,
                                   help_text="null: all regions (or not a dimension).")
    current = serializers.DictField()
    previous = serializers.DictField()
    change = serializers.DictField()


class GrantLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    funder = serializers.CharField()
    funder_name = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    service_types = serializers.ListField(child=serializers.CharField(),
                                          help_text="Empty: the grant funds every service.")
    description = serializers.CharField()
    values = serializers.DictField(help_text="The grant's services in its period; null when "
                                             "suppressed.")
    suppressed = serializers.ListField(child=serializers.CharField())
    cost_per_client_served = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True,
        help_text="The grant's amount over its own clients served.")


class BudgetRequestSerializer(serializers.Serializer):
    organization = serializers.CharField()
    organization_name = serializers.CharField()
    fiscal_year = serializers.CharField()
    previous_fiscal_year = serializers.CharField()
    suppression_applied = serializers.BooleanField()
    dimensions = serializers.ListField(child=serializers.CharField(),
                                       help_text="The dimensions of the lines, after roll-up.")
    coarsened = CoarsenStepSerializer(many=True)
    hidden_share = serializers.FloatField()
    measures = serializers.ListField(child=serializers.CharField())
    grant_measures = serializers.ListField(child=serializers.CharField())
    grants = GrantLineSerializer(many=True)
    grant_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    cost_per_client_served = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True,
        help_text="The grantee overall: every grant of the year over every client served.")
    previous_grant_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    previous_cost_per_client_served = serializers.DecimalField(max_digits=14, decimal_places=2,
                                                               allow_null=True)
    lines = BudgetLineSerializer(many=True)


class BudgetRequestView(APIView):
    required_scopes = [REPORTS_READ]
    problem_codes = ("not_found", "invalid_fiscal_year", "too_long", "not_a_grantee",
                     "invalid_coarsen",
                     "report_scope_denied")
    renderer_classes = [JSONRenderer, CSVRenderer, PrintableHTMLRenderer]

    @extend_schema(
        summary="Budget-request report for one grantee and one State fiscal year",
        description="JSON, CSV (`Accept: text/csv` or `format=csv`) or a printable HTML page "
                    "(`format=html`).",
        parameters=[BudgetQuerySerializer],
        responses={200: BudgetRequestSerializer,
                   (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
                   (200, "text/html"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        query = BudgetQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        budget = budget_module.budget_request(request.auth,
                                              organization=query.validated_data["org"],
                                              fiscal_year=query.validated_data["fiscal_year"],
                                              coarsen=query.validated_data["coarsen"])
        data = presentation.budget_as_dict(budget)
        fmt = request.accepted_renderer.format
        if fmt == "csv":
            return Response({"table": presentation.budget_table(budget),
                             "filename": f"budget-request-{budget.organization.slug}-"
                                         f"{budget.fiscal_year.split()[-1]}.csv"})
        if fmt == "html":
            header, rows = presentation.budget_table(budget)
            return Response({"template": "reporting/budget_request.html",
                             "context": {"budget": data, "header": header, "rows": rows}})
        return Response(data)


class LanguageCodesField(serializers.ListField):
    """ISO 639 codes in, the related languages' codes out."""

    # Not blank and no NUL, as the document says; a code that is no language is the
    # service's unknown_language.
    child = RequiredTextField()

    def to_representation(self, data):
        return [language.code for language in data.all()]


class ServiceEventSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    service_type = serializers.SlugField(source="service_type.code", default="know-your-rights")
    district = serializers.IntegerField(source="district.number", required=False,
                                        allow_null=True, help_text=services.DISTRICT_DEFAULT,
                                        validators=services.DISTRICT.validators())
    languages = LanguageCodesField(required=False, default=list,
                                   validators=services.LANGUAGES.validators(),
                                   help_text="ISO 639 codes.")
    kind = DomainChoiceField(choices=ServiceEventKind.choices)
    attendance = serializers.IntegerField(validators=services.ATTENDANCE.validators(),
                                          help_text="How many attended; no attendee data.")
    title = RequiredTextField(validators=services.TITLE.validators())

    class Meta:
        model = ServiceEvent
        fields = ["id", "organization", "kind", "title", "date", "district", "service_type",
                  "languages", "attendance", "campaign", "created_at", "updated_at"]
        read_only_fields = ["id", "organization", "campaign", "created_at", "updated_at"]

    def flat(self) -> dict:
        """validated_data with the nested sources flattened to service input names."""
        data = dict(self.validated_data)
        if "service_type" in data:
            data["service_type"] = data["service_type"]["code"]
        if "district" in data:
            data["district"] = (data["district"] or {}).get("number")
        return data


@extend_schema_view(
    list=extend_schema(summary="Service events your organisation recorded"),
    retrieve=extend_schema(summary="Get one service event"),
    create=extend_schema(summary="Record a workshop, forum or clinic"),
    partial_update=extend_schema(summary="Correct a service event"),
    destroy=extend_schema(summary="Delete a service event"),
)
class ServiceEventViewSet(viewsets.ModelViewSet):
    serializer_class = ServiceEventSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_scopes_by_action = {
        "list": [REPORTS_READ], "retrieve": [REPORTS_READ], "create": [REFERRALS_WRITE],
        "partial_update": [REFERRALS_WRITE], "destroy": [REFERRALS_WRITE],
    }
    _event_codes = ("required", "too_long", "out_of_range", "unknown_district",
                    "unknown_language", "too_many_items", "unknown_service_type",
                    "invalid_kind", "not_an_organiser", "date_out_of_range")
    problem_codes_by_action = {"create": _event_codes, "partial_update": _event_codes}

    def get_queryset(self):
        return (ServiceEvent.objects.visible_to(self.request.auth)
                .select_related("organization", "service_type", "district")
                .prefetch_related(Prefetch("languages", queryset=Language.objects.order_by("code"))))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.service_event_create(
            principal=request.auth, data=services.ServiceEventInput(**serializer.flat()))
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        event = services.service_event_update(principal=request.auth, event_id=kwargs["pk"],
                                              changes=serializer.flat())
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.service_event_delete(principal=request.auth, event_id=kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class GrantSerializer(serializers.ModelSerializer):
    funder = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    grantee = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    service_types = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Grant
        fields = ["id", "funder", "grantee", "fiscal_year", "period_start", "period_end",
                  "amount", "service_types", "description"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(summary="Grants you make or receive"),
                    retrieve=extend_schema(summary="Get one grant"))
class GrantViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = GrantSerializer
    required_scopes = [REPORTS_READ]

    def get_queryset(self):
        return (Grant.objects.visible_to(self.request.auth).select_related("funder", "grantee")
                .prefetch_related("service_types"))
