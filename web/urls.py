from django.urls import path
from django.views.i18n import set_language

from . import views

app_name = "web"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("language/", set_language, name="set-language"),
    path("inbox/", views.inbox, name="inbox"),
    path("referrals/<uuid:referral_id>/", views.referral_detail, name="referral"),
    path("referrals/<uuid:referral_id>/act/", views.referral_act, name="referral-act"),
    path("intake/", views.intake, name="intake"),
    path("intake/suggestions/", views.intake_suggestions, name="intake-suggestions"),
    path("intake/clients/", views.intake_clients, name="intake-clients"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:report>.csv", views.dashboard_csv, name="dashboard-csv"),
]
