"""Forms of the staff web app. They parse only: every rule and limit is the
service's, which raises a DomainError that ``add_domain_error`` puts on the form."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from orgs.models import Language, ServiceType
from referrals.models import (
    REASONS_BY_STATUS,
    AppointmentKind,
    ConsentMethod,
    LocationType,
    ContactPreference,
    IntakeChannel,
    OutcomeCode,
    Priority,
    ReasonCode,
    Status,
)
from referrals.services import ClientInput, ConsentInput, OutcomeInput, ReferralRequest


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the field it names (``client.given_name`` is the
    form's ``given_name``), else above the form; the message is the domain's."""
    name = (exc.field or "").rsplit(".", 1)[-1].split("[", 1)[0]
    aliases = {"client_id": "client_id", "method": "consent_method", "text": "text"}
    name = aliases.get(name, name)
    form.add_error(name if name in form.fields else None, exc.detail)


class SignInForm(AuthenticationForm):
    """The same accounts as the OAuth sign-in page (Django's users)."""

    username = forms.CharField(label=_("Username"), widget=forms.TextInput(
        attrs={"autofocus": True, "autocomplete": "username"}))


class IntakeForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
    client_id = forms.UUIDField(required=False, label=_("Existing client"))
    given_name = forms.CharField(required=False, label=_("Given name"),
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    family_name = forms.CharField(required=False, label=_("Family name"),
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(required=False, label=_("Phone"),
                            widget=forms.TextInput(attrs={"autocomplete": "off", "type": "tel"}))
    email = forms.CharField(required=False, label=_("Email"),
                            widget=forms.TextInput(attrs={"autocomplete": "off",
                                                          "type": "email"}))
    preferred_languages = forms.MultipleChoiceField(
        required=False, label=_("Languages (first: preferred)"),
        widget=forms.SelectMultiple(attrs={"size": 6}))
    contact_preference = forms.ChoiceField(choices=ContactPreference.choices,
                                           initial=ContactPreference.PHONE,
                                           label=_("Contact preference"))
    consent_method = forms.ChoiceField(
        required=False, label=_("Consent to share with the receiving organisation"),
        choices=[("", _("Already on file"))] + list(ConsentMethod.choices),
        widget=forms.RadioSelect)
    service_type = forms.ChoiceField(label=_("Need (service type)"))
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.ROUTINE,
                                 label=_("Priority"))
    needed_by = forms.DateField(required=False, label=_("Needed by"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    intake_channel = forms.ChoiceField(choices=IntakeChannel.choices, label=_("Intake channel"))
    district = forms.IntegerField(required=False, label=_("Senate district"),
                                  widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    summary = forms.CharField(required=False, label=_("Summary"),
                              widget=forms.Textarea(attrs={"rows": 3}))
    receiving_org = forms.CharField(required=False, label=_("Receiving organisation"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = [("", _("Choose a service"))] + [
            (s.code, s.name) for s in ServiceType.objects.order_by("name")]
        self.fields["preferred_languages"].choices = [
            (lang.code, f"{lang.name} ({lang.code})") for lang in Language.objects.order_by("name")]

    def referral_request(self) -> ReferralRequest:
        data = self.cleaned_data
        client = None
        if data["client_id"] is None:
            client = ClientInput(
                given_name=data["given_name"], family_name=data["family_name"],
                phone=data["phone"], email=data["email"],
                preferred_languages=list(data["preferred_languages"]),
                contact_preference=data["contact_preference"])
        consent = ConsentInput(method=data["consent_method"]) if data["consent_method"] else None
        return ReferralRequest(
            receiving_org=data["receiving_org"], service_type=data["service_type"],
            intake_channel=data["intake_channel"], client_id=data["client_id"], client=client,
            consent=consent, priority=data["priority"], needed_by=data["needed_by"],
            summary=data["summary"], district=data["district"])


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason_code = forms.ChoiceField(required=False, label=_("Why"))
    reason = forms.CharField(required=False, label=_("Reason"),
                             widget=forms.Textarea(attrs={"rows": 2}))
    outcomes = forms.MultipleChoiceField(required=False, choices=[
        (code, label) for code, label in OutcomeCode.choices
        if code != OutcomeCode.REFERRED_ONWARD], widget=forms.CheckboxSelectMultiple,
        label=_("Outcomes"))
    outcome_note = forms.CharField(required=False, label=_("Outcome note"),
                                   widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The codes that explain this move (the service checks them again).
        to = self.data.get("to") if self.is_bound else self.initial.get("to")
        labels = dict(ReasonCode.choices)
        self.fields["reason_code"].choices = [("", _("Choose a reason"))] + [
            (code, labels[code]) for code in REASONS_BY_STATUS.get(to, ())]

    def outcome_inputs(self) -> list[OutcomeInput]:
        note = self.cleaned_data["outcome_note"]
        return [OutcomeInput(code=code, note=note) for code in self.cleaned_data["outcomes"]]


class AppointmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AppointmentKind.choices)
    at = forms.DateTimeField(label=_("Date and time"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    location_type = forms.ChoiceField(label=_("Where"), choices=LocationType.choices,
                                      help_text=_("A kind of place: no address."))


class LateOutcomeForm(forms.Form):
    """Outcomes that came after the close (the service checks the rest)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    outcomes = TransitionForm.base_fields["outcomes"]
    outcome_note = TransitionForm.base_fields["outcome_note"]
    outcome_inputs = TransitionForm.outcome_inputs


class ForwardForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    receiving_org = forms.ChoiceField(label=_("Refer onward to"))
    reason = forms.CharField(required=False, label=_("Reason"),
                             widget=forms.Textarea(attrs={"rows": 2}))
    consent_method = forms.ChoiceField(
        required=False, label=_("Consent to share with that organisation"),
        choices=[("", _("Already on file"))] + list(ConsentMethod.choices),
        widget=forms.RadioSelect)

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiving_org"].choices = [("", _("Choose an organisation"))] + [
            (org.slug, org.name) for org in organizations]

    def consent(self) -> ConsentInput | None:
        method = self.cleaned_data["consent_method"]
        return ConsentInput(method=method) if method else None


class AssignForm(forms.Form):
    """Who owns the referral on the caller's side; the service checks the member."""

    assigned_to = forms.ChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [("", _("No one"))] + [
            (user.username, user.get_full_name() or user.username) for user in members]


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}),
                           required=False)


class DashboardForm(forms.Form):
    fiscal_year = forms.ChoiceField(label=_("New York State fiscal year"), required=False)
    measure = forms.ChoiceField(label=_("Measure"), required=False)
    # A slug, not a choice: which grantees a caller may see is the reporting app's rule.
    grantee = forms.CharField(label=_("Budget request for"), required=False, widget=forms.Select)

    def __init__(self, *args, fiscal_years=(), measures=(), grantees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"].choices = [(fy, f"SFY {fy}") for fy in fiscal_years]
        self.fields["measure"].choices = [(m, m.replace("_", " ")) for m in measures]
        self.fields["grantee"].widget.choices = [(org.slug, org.name) for org in grantees]
