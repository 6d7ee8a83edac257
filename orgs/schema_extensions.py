"""OpenAPI: describe PrincipalAuthentication as OAuth2, with each operation's scopes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.settings import spectacular_settings


class PrincipalAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "orgs.auth.PrincipalAuthentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema):
        from .auth import required_scopes_for

        return {self.name: required_scopes_for(auto_schema.view) or []}

    def get_security_definition(self, auto_schema):
        flows = {}
        for flow in spectacular_settings.OAUTH2_FLOWS:
            flows[flow] = {"tokenUrl": spectacular_settings.OAUTH2_TOKEN_URL,
                           "refreshUrl": spectacular_settings.OAUTH2_REFRESH_URL,
                           "scopes": spectacular_settings.OAUTH2_SCOPES}
            if flow == "authorizationCode":
                flows[flow]["authorizationUrl"] = spectacular_settings.OAUTH2_AUTHORIZATION_URL
        return {
            "type": "oauth2",
            "description": (
                "Partner systems: client credentials. Interactive clients: authorization "
                "code with PKCE (S256). Access tokens live one hour."
            ),
            "flows": flows,
        }
