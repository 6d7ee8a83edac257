"""The staff web app's pages. Thin: parse the form, call the selector or service,
render or redirect. Reads go through ``visible_to`` (the referrals selectors),
writes through ``referrals.services``, and every client-data object a page shows
is noted for the audit trail, as the API's serializers do."""

from __future__ import annotations

import uuid
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.context import note_read
from core.errors import DomainError, NotFound
from core.principal import require_casework
from core.renderers import CSVRenderer
from core.scopes import REFERRALS_READ, REFERRALS_WRITE, REPORTS_READ, missing_scopes_message
from orgs.models import Membership, Organization, OrganizationKind, ServiceType
from referrals import selectors, services
from referrals.filtersets import ClientFilterSet, ReferralFilterSet
from referrals.models import IntakeChannel, Status
from referrals.presentation import chain_as_dict, contact_details_visible
from reporting import fiscal
from reporting.budget import budget_request
from reporting.presentation import budget_table, report_table
from reporting.selectors import ReportSpec, grantee_ids, service_numbers

from . import charts
from .forms import (
    AppointmentForm,
    AssignForm,
    DashboardForm,
    LateOutcomeForm,
    ForwardForm,
    IntakeForm,
    NoteForm,
    SignInForm,
    TransitionForm,
    add_domain_error,
)
from .principal import session_principal

PAGE_SIZE = 20
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; object-src 'none'")


def with_csp(view):
    """Every page of the staff app: in the reader's language (English or Spanish),
    with a Content-Security-Policy allowing no inline script, and a referrer policy
    under which browsers still send the Origin that Django's CSRF check compares
    (under the API's "no-referrer" a form POST says "null")."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        # English or Spanish, from the language chosen (cookie) or the browser's; the
        # APIs stay in English, so this is per page rather than a LocaleMiddleware.
        language = translation.get_language_from_request(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Language"] = language
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    return wrapped


def staff_view(*scopes: str):
    """A page for a signed-in member: builds the request's Principal (the one the
    audit trail records), checks the scopes its role holds, and renders the domain's
    refusals (404 for what is not visible, 403 for what the caller can never do)."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("web:sign-in"))
            try:
                request.principal = principal = session_principal(request.user)
                if not principal.has_scopes(*scopes):
                    raise DomainError("insufficient_scope", missing_scopes_message(scopes))
                return view(request, principal, *args, **kwargs)
            except DomainError as exc:
                if exc.code in ("no_membership", "organization_inactive"):
                    logout(request)
                return render(request, "web/refused.html", {"error": exc}, status=exc.status)

        return with_csp(wrapped)

    return decorate


# --- landing and sign-in ----------------------------------------------------------

@require_GET
@with_csp
def landing(request):
    return render(request, "web/landing.html")


class SignInView(auth_views.LoginView):
    template_name = "web/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("web:inbox")

    def form_valid(self, form):
        try:
            principal = session_principal(form.get_user())
        except DomainError as exc:
            form.add_error(None, exc.detail)
            return self.form_invalid(form)
        response = super().form_valid(form)
        if principal.is_funder and self.get_redirect_url() == "":
            return redirect("web:dashboard")
        return response


sign_in = with_csp(SignInView.as_view())


@with_csp
def _locked_out_page(request):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "web/locked_out.html", {"cooloff_minutes": minutes}, status=429)


def locked_out(request, original_response=None, credentials=None):
    """What django-axes answers a sign-in of a locked-out username and address with
    (settings.AXES_LOCKOUT_CALLABLE): the same page for every sign-in form."""
    return _locked_out_page(request)


@require_POST
@with_csp
def sign_out(request):
    logout(request)
    return redirect("web:landing")


# --- inbox ---------------------------------------------------------------------

TABS = {"incoming": "receiver", "outgoing": "sender"}
INBOX_FIELDS = ("status", "priority", "service_type", "overdue", "assigned_to", "unassigned",
                "ordering")


class OneOrderingSelect(forms.Select):
    """One ordering chosen from a list: the FilterSet's ordering field takes a list (the
    API's comma-separated form), which a plain select would hand over as a string."""

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return [value] if value else None


def _inbox_filterset(request, principal, params: QueryDict, tab: str) -> ReferralFilterSet:
    """The API's FilterSet on the API's list, with the tab as its sender/receiver."""
    data = params.copy()
    for name in ("tab", "page", "sender", "receiver"):
        data.pop(name, None)
    data[TABS[tab]] = principal.organization.slug
    return ReferralFilterSet(data, queryset=selectors.referral_list(principal), request=request)


@require_GET
@staff_view(REFERRALS_READ)
def inbox(request, principal):
    require_casework(principal)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "incoming"
    filterset = _inbox_filterset(request, principal, request.GET, tab)
    form = _inbox_form(filterset.form)  # before validation, which caches the labels
    counts, page = {}, None
    if filterset.is_valid():
        for name in TABS:
            counts[name] = (filterset.qs.count() if name == tab
                            else _inbox_filterset(request, principal, request.GET, name)
                            .qs.count())
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        for referral in page:
            note_read("referral", referral.pk)
            note_read("client", referral.client_id)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"tab": tab, "tabs": [(name, counts.get(name)) for name in TABS],
               "form": form, "fields": [form[name] for name in INBOX_FIELDS], "page": page,
               "query": query.urlencode(), "filter_query": _without(query, "tab")}
    template = "web/_inbox_results.html" if request.htmx else "web/inbox.html"
    return render(request, template, context)


def _inbox_form(form):
    """The FilterSet's form, labelled for people rather than API clients."""
    _ = gettext_lazy
    presentation = {
        "status": (_("Status"), forms.SelectMultiple(attrs={"size": 4})),
        "priority": (_("Priority"), forms.SelectMultiple(attrs={"size": 3})),
        "service_type": (_("Service"), forms.Select(choices=[("", _("Any service"))] + [
            (s.code, s.name) for s in ServiceType.objects.order_by("name")])),
        "overdue": (_("Overdue"), forms.Select(choices=[
            ("", _("Any")), ("true", _("Overdue only")), ("false", _("Not overdue"))])),
        "assigned_to": (_("Owner"), forms.Select(choices=[
            ("", _("Anyone")), ("me", _("Mine"))])),
        "unassigned": (_("Assigned"), forms.Select(choices=[
            ("", _("Any")), ("true", _("Nobody yet")), ("false", _("Somebody"))])),
        "ordering": (_("Order"), OneOrderingSelect(choices=[
            ("", _("Newest first")), ("urgency", _("Most urgent first")),
            ("needed_by", _("Due soonest")),
            ("-updated_at", _("Recently changed"))])),
    }
    for name, (label, widget) in presentation.items():
        field = form.fields[name]
        if isinstance(widget, forms.SelectMultiple):
            widget.choices = field.choices
        field.label, field.help_text, field.widget = label, "", widget
    return form


def _without(query: QueryDict, name: str) -> str:
    query = query.copy()
    query.pop(name, None)
    return query.urlencode()


# --- one referral ------------------------------------------------------------------

ACTION_LABELS = {
    Status.ACCEPTED: gettext_lazy("Accept"),
    Status.REJECTED: gettext_lazy("Reject"),
    Status.IN_PROGRESS: gettext_lazy("Start work"),
    Status.ON_HOLD: gettext_lazy("Put on hold"),
    Status.COMPLETED: gettext_lazy("Complete"),
    Status.FAILED: gettext_lazy("Close as failed"),
    Status.CANCELLED: gettext_lazy("Cancel"),
    Status.ENTERED_IN_ERROR: gettext_lazy("Mark entered in error"),
}


def _party(principal, referral) -> str | None:
    if referral.receiving_org_id == principal.organization.pk:
        return services.RECEIVER
    if referral.sending_org_id == principal.organization.pk:
        return services.SENDER
    return None


def available_actions(principal, referral) -> list[dict]:
    """The moves services.TRANSITIONS allows this caller from the current status."""
    party = _party(principal, referral)
    if party is None or not principal.has_scopes(REFERRALS_WRITE):
        return []
    moves = services.TRANSITIONS.get(referral.status, {})
    reopening = referral.status in services.REOPENABLE
    return [{"to": to,
             "label": _("Reopen") if reopening and to == Status.IN_PROGRESS else ACTION_LABELS[to],
             "reason": to in services.REASON_REQUIRED or (reopening and to == Status.IN_PROGRESS),
             "outcomes": to in services.OUTCOMES_ALLOWED}
            for to, parties in moves.items() if party in parties]


def _referral_page(request, principal, referral_id, *, status=200, bound=None, error=None,
                   stale=False):
    selectors.visible_referral(principal, referral_id)  # 404 when not visible
    referral = selectors.referral_list(principal, with_events=True, with_notes=True).get(
        pk=referral_id)
    client = referral.client
    note_read("referral", referral.pk)
    note_read("client", client.pk)
    actions = available_actions(principal, referral)
    can_forward = any(a["to"] == Status.COMPLETED for a in actions) and _party(
        principal, referral) == services.RECEIVER
    bound = bound or {}
    forward_orgs = []
    if can_forward:
        forward_orgs = [org for org in selectors.routing_suggestions(
            principal=principal, service_type=referral.service_type.code, limit=50)
            if org.pk not in (referral.sending_org_id, referral.receiving_org_id)]
    transition_forms = []
    for action in actions:
        form = bound.get(action["to"]) or TransitionForm(
            initial={"to": action["to"], "version": referral.version},
            auto_id=f"id_{action['to']}_%s")
        transition_forms.append({**action, "form": form})
    context = {
        "referral": referral, "client": client,
        "contact_visible": contact_details_visible(principal, client),
        "consents": selectors.client_consents(principal, client),
        "party": _party(principal, referral),
        "actions": transition_forms,
        "forward_form": bound.get("forward") or (ForwardForm(
            initial={"version": referral.version}, organizations=forward_orgs,
            auto_id="id_forward_%s") if can_forward else None),
        "note_form": bound.get("note") or (NoteForm(auto_id="id_note_%s")
                                           if _party(principal, referral) else None),
        "error": error, "stale": stale,
        "owner": referral.owner_for(principal.organization),
        "appointment_form": bound.get("appointment") or (AppointmentForm(
            auto_id="id_appointment_%s")
            if _party(principal, referral) and principal.has_scopes(REFERRALS_WRITE) else None),
        "outcome_form": bound.get("outcomes") or (LateOutcomeForm(
            initial={"version": referral.version}, auto_id="id_late_%s")
            if referral.status in services.REOPENABLE and any(
                a["to"] == Status.IN_PROGRESS for a in actions) else None),
        "assign_form": bound.get("assign") or (AssignForm(
            members=_members(principal), auto_id="id_assign_%s",
            initial={"assigned_to": getattr(referral.owner_for(principal.organization),
                                            "username", "")})
            if _party(principal, referral) and principal.has_scopes(REFERRALS_WRITE) else None),
        "children": selectors.referral_list(principal).filter(parent=referral),
        "chain": _chain(principal, referral),
    }
    return render(request, "web/referral.html", context, status=status)


def _members(principal) -> list:
    """The active staff of the caller's organisation, to assign referrals to."""
    return [m.user for m in Membership.objects.select_related("user").filter(
        organization=principal.organization, active=True, user__is_active=True)
        .order_by("user__username")]


def _chain(principal, referral) -> list[dict]:
    """The referral's chain when it has one: each link as the API shows it, beside the
    link itself (for names and labels)."""
    links = selectors.referral_chain(principal, referral.pk)
    if len(links) < 2:
        return []
    shown = chain_as_dict(principal, links)["links"]
    return [{"link": link, "yours": data["yours"], "this": link.pk == referral.pk}
            for link, data in zip(links, shown)]


@require_GET
@staff_view(REFERRALS_READ)
def referral_detail(request, principal, referral_id):
    require_casework(principal)
    return _referral_page(request, principal, referral_id)


@require_POST
@staff_view(REFERRALS_READ, REFERRALS_WRITE)
def referral_act(request, principal, referral_id):
    """One action on a referral (a transition, a forward or a note), then back to
    its page; a refusal re-renders the page with the domain's message."""
    require_casework(principal)
    kind = request.POST.get("action")
    if kind == "forward":
        referral = selectors.visible_referral(principal, referral_id)
        form = ForwardForm(request.POST, auto_id="id_forward_%s", organizations=[
            org for org in selectors.routing_suggestions(
                principal=principal, service_type=referral.service_type.code, limit=50)])
        key = "forward"
    elif kind == "note":
        form, key = NoteForm(request.POST, auto_id="id_note_%s"), "note"
    elif kind == "assign":
        form = AssignForm(request.POST, members=_members(principal), auto_id="id_assign_%s")
        key = "assign"
    elif kind == "outcomes":
        form, key = LateOutcomeForm(request.POST, auto_id="id_late_%s"), "outcomes"
    elif kind == "appointment":
        form, key = AppointmentForm(request.POST, auto_id="id_appointment_%s"), "appointment"
    else:
        form = TransitionForm(request.POST, auto_id=f"id_{request.POST.get('to')}_%s")
        key = request.POST.get("to")
    if not form.is_valid():
        return _referral_page(request, principal, referral_id, status=400, bound={key: form})
    data = form.cleaned_data
    try:
        if kind == "forward":
            _parent, child = services.referral_forward(
                principal=principal, referral_id=referral_id,
                expected_version=data["version"], receiving_org=data["receiving_org"],
                reason=data["reason"], consent=form.consent())
            messages.success(request, _("Referred onward; this is the new referral."))
            return redirect("web:referral", referral_id=child.pk)
        if kind == "note":
            services.referral_note_add(principal=principal, referral_id=referral_id,
                                       text=data["text"])
            messages.success(request, _("Note added."))
        elif kind == "assign":
            services.referral_assign(principal=principal, referral_id=referral_id,
                                     username=data["assigned_to"] or None)
            messages.success(request, _("Owner changed."))
        elif kind == "appointment":
            services.appointment_add(principal=principal, referral_id=referral_id,
                                     data=services.AppointmentInput(**data))
            messages.success(request, _("Appointment added."))
        elif kind == "outcomes":
            services.referral_outcomes_add(principal=principal, referral_id=referral_id,
                                           expected_version=data["version"],
                                           outcomes=form.outcome_inputs())
            messages.success(request, _("Outcome recorded."))
        else:
            referral = services.referral_transition(
                principal=principal, referral_id=referral_id, to=data["to"],
                expected_version=data["version"], reason=data["reason"],
                outcomes=form.outcome_inputs(), reason_code=data["reason_code"])
            messages.success(request, _("The referral is now %(status)s.") % {
                "status": referral.get_status_display()})
    except DomainError as exc:
        if exc.code == "not_found":
            raise
        stale = exc.code == "version_mismatch"
        if not stale:
            add_domain_error(form, exc)
        return _referral_page(request, principal, referral_id, status=exc.status,
                              bound={} if stale else {key: form}, error=exc, stale=stale)
    return redirect("web:referral", referral_id=referral_id)


# --- intake ----------------------------------------------------------------------

CHANNEL_BY_KIND = {OrganizationKind.HOTLINE: IntakeChannel.HOTLINE,
                   OrganizationKind.DISTRICT_OFFICE: IntakeChannel.DISTRICT_OFFICE,
                   OrganizationKind.COMMUNITY_GROUP: IntakeChannel.COMMUNITY_GROUP}


def _suggestions(principal, data) -> tuple[list, DomainError | None]:
    service_type = (data.get("service_type") or "").strip()
    if not service_type:
        return [], None
    languages = data.getlist("preferred_languages") if hasattr(data, "getlist") else []
    district = (data.get("district") or "").strip()
    try:
        return selectors.routing_suggestions(
            principal=principal, service_type=service_type,
            language=languages[0] if languages else None,
            district=int(district) if district.isdigit() else None, limit=8), None
    except DomainError as exc:
        return [], exc


def _intake_context(principal, form, data) -> dict:
    suggestions, suggestion_error = _suggestions(principal, data)
    chosen_client = None
    client_id = (data.get("client_id") or "").strip()
    if client_id:
        chosen_client = selectors.by_id(selectors.client_list(principal), client_id)
        if chosen_client is not None:
            note_read("client", chosen_client.pk)
    return {"form": form, "suggestions": suggestions, "suggestion_error": suggestion_error,
            "chosen": (data.get("receiving_org") or ""), "chosen_client": chosen_client}


@require_http_methods(["GET", "POST"])
@staff_view(REFERRALS_READ, REFERRALS_WRITE)
def intake(request, principal):
    require_casework(principal)
    if request.method == "GET":
        form = IntakeForm(initial={
            "idempotency_key": str(uuid.uuid4()),
            "intake_channel": CHANNEL_BY_KIND.get(principal.organization.kind,
                                                  IntakeChannel.PARTNER)})
        return render(request, "web/intake.html", _intake_context(principal, form, request.GET))
    form = IntakeForm(request.POST)
    status = 400
    if form.is_valid() and "suggest" not in request.POST:
        try:
            created = services.referral_create_once(
                principal=principal, idempotency_key=form.cleaned_data["idempotency_key"],
                request=form.referral_request())
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            if created.replayed:
                messages.info(request, _("This intake was already submitted; here is its referral."))
            else:
                messages.success(request, _("Referral sent."))
            return redirect("web:referral", referral_id=created.referral_id)
    elif "suggest" in request.POST:
        status = 200
    return render(request, "web/intake.html", _intake_context(principal, form, request.POST),
                  status=status)


@require_GET
@staff_view(REFERRALS_READ, REFERRALS_WRITE)
def intake_suggestions(request, principal):
    require_casework(principal)
    return render(request, "web/_suggestions.html", _intake_context(principal, None, request.GET))


@require_GET
@staff_view(REFERRALS_READ)
def intake_clients(request, principal):
    """Existing clients by name, for the intake form (htmx)."""
    require_casework(principal)
    search = (request.GET.get("search") or "").strip()
    clients = []
    if search:
        filterset = ClientFilterSet({"search": search}, queryset=selectors.client_list(principal)
                                    .filter(erased_at__isnull=True))
        clients = list(filterset.qs[:10]) if filterset.is_valid() else []
        for client in clients:
            note_read("client", client.pk)
    return render(request, "web/_client_results.html", {"clients": clients, "search": search})


# --- dashboard ---------------------------------------------------------------------

DASHBOARD_MEASURES = ("referrals_received", "completed", "unique_clients_served", "outcomes")
# Per month and district for an organisation's own numbers; a suppressed report is
# rolled up (coarsen=auto) until little of it is hidden, and the title says to what.
CHARTS = {
    "service_type": (gettext_lazy("By service type"), ("service_type",), None),
    "period": (gettext_lazy("By month"), ("period",), "month"),
    "district": (gettext_lazy("By senate district"), ("district",), None),
}


def _dashboard_form(principal, params):
    this_year = fiscal.sfy_start_year(timezone.localdate())
    years = [fiscal.sfy_label(y) for y in range(this_year, 2015, -1)]
    org = principal.organization
    if principal.is_admin:
        grantees = Organization.objects.filter(grants_received__isnull=False).distinct()
    elif principal.is_funder or org.kind == OrganizationKind.CAUCUS:
        grantees = Organization.objects.filter(pk__in=grantee_ids(org))
    else:
        grantees = Organization.objects.filter(pk=org.pk)
    grantees = list(grantees.order_by("name"))
    defaults = {"fiscal_year": years[0], "measure": DASHBOARD_MEASURES[0],
                "grantee": grantees[0].slug if grantees else ""}
    form = DashboardForm(params or defaults, fiscal_years=years, measures=DASHBOARD_MEASURES,
                         grantees=grantees)
    values = dict(defaults)
    if form.is_valid():
        values.update({k: v for k, v in form.cleaned_data.items() if v})
    return form, values


ROLLED_UP_TITLES = {"quarter": gettext_lazy("By quarter"), "sfy": gettext_lazy("By year"),
                    "region": gettext_lazy("By region"),
                    None: gettext_lazy("The coalition as a whole")}


def _report(principal, chart: str, fiscal_year: str, measure: str):
    _title, dimensions, period = CHARTS[chart]
    return service_numbers(principal, ReportSpec(
        dimensions=dimensions, period=period or "sfy", measures=(measure,),
        fiscal_year=fiscal_year, coarsen="auto"))


@require_GET
@staff_view(REPORTS_READ)
def dashboard(request, principal):
    form, values = _dashboard_form(principal, request.GET)
    fy, measure = values["fiscal_year"], values["measure"]
    charts_out, suppressed = [], None
    for name, (title, _dimensions, period) in CHARTS.items():
        chart = {"name": name, "title": title}
        try:
            report = _report(principal, name, fy, measure)
        except DomainError as exc:
            chart["error"] = exc
        else:
            suppressed = report.suppressed if suppressed is None else suppressed
            if report.coarsened:
                chart["title"] = ROLLED_UP_TITLES[report.coarsened[-1]["to"]]
            chart["chart"] = charts.report_bars(report, measure)
        charts_out.append(chart)
    budget = budget_error = None
    if values["grantee"]:
        try:
            budget = budget_request(principal, organization=values["grantee"], fiscal_year=fy)
        except DomainError as exc:
            budget_error = exc
    return render(request, "web/dashboard.html", {
        "form": form, "values": values, "charts": charts_out, "suppressed": suppressed,
        "budget": budget, "budget_error": budget_error,
        "budget_charts": charts.budget_bars(budget) if budget else [],
        "csv_query": urlencode(values)})


@require_GET
@staff_view(REPORTS_READ)
def dashboard_csv(request, principal, report):
    """The numbers behind a chart, as the API's CSV (same table, same renderer)."""
    form, values = _dashboard_form(principal, request.GET)
    if report == "budget":
        budget = budget_request(principal, organization=values["grantee"],
                                fiscal_year=values["fiscal_year"])
        table, filename = budget_table(budget), f"budget-request-{values['grantee']}"
    elif report in CHARTS:
        table = report_table(_report(principal, report, values["fiscal_year"],
                                     values["measure"]))
        filename = f"service-numbers-{report}"
    else:
        raise NotFound("No such report.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.content = CSVRenderer().render(
        {"table": table, "filename": f"{filename}-{values['fiscal_year']}.csv"},
        renderer_context={"response": response})
    return response
