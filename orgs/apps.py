from django.apps import AppConfig


class OrgsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orgs"
    verbose_name = "Coalition directory"

    def ready(self):
        from . import schema_extensions  # noqa: F401  (registers the OpenAPI auth scheme)
