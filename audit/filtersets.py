import django_filters

from core.filters import InstantFilter

from .models import Action, AuditRecord, Channel


class AuditRecordFilterSet(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug",
                                             help_text="Acting organisation slug.")
    application = django_filters.CharFilter(field_name="application__client_id",
                                            help_text="OAuth client id.")
    user = django_filters.CharFilter(field_name="user__username", help_text="Username.")
    object_type = django_filters.ChoiceFilter(
        choices=[(t, t) for t in ("client", "referral", "consent", "note", "service_event")])
    object_id = django_filters.CharFilter()
    action = django_filters.ChoiceFilter(choices=Action.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    since = InstantFilter(field_name="at", lookup_expr="gte")
    until = InstantFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditRecord
        fields = ["organization", "application", "user", "object_type", "object_id", "action",
                  "channel", "since", "until"]
