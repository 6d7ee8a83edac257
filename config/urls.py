from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from oauth2_provider import urls as oauth2_urls

from core.problems import not_found
from web.graphiql import GraphQLView

api_v1 = [
    path("", include("orgs.api.urls")),
    path("", include("referrals.api.urls")),
    path("", include("reporting.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("webhooks.api.urls")),
]

# The GraphQL endpoint; its GraphiQL page (DEBUG only) loads local assets, no CDN.
graphql_view = GraphQLView.as_view()

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("o/", include(oauth2_urls, namespace="oauth2_provider")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema",
                                                    template_name="docs/redoc.html"),
         name="redoc"),
    path("graphql/", graphql_view, name="graphql"),
    # Without the slash too: APPEND_SLASH would answer a POST with an HTML redirect
    # that drops its body.
    path("graphql", graphql_view),
    # Exempt from CSRF, so that a POST to an unknown API address is a 404, not an HTML 403.
    re_path(r"^api/", csrf_exempt(not_found)),
    # The staff web app: landing page, inbox, referrals, intake, dashboard.
    path("", include("web.urls")),
]

handler404 = "core.problems.not_found"
handler500 = "core.problems.server_error"
