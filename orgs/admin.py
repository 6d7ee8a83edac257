from django.contrib import admin

from .models import Language, Membership, Organization, SenateDistrict, ServiceType


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(SenateDistrict)
class SenateDistrictAdmin(admin.ModelAdmin):
    list_display = ("number",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "accepting_referrals", "active")
    list_filter = ("kind", "accepting_referrals", "active")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("senate_districts", "languages", "service_types")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "active")
    list_filter = ("role", "active", "organization__kind")
    search_fields = ("user__username", "organization__name")
    autocomplete_fields = ("user", "organization")


class OAuthApplicationAdmin(admin.ModelAdmin):
    """Registered by django-oauth-toolkit through APPLICATION_ADMIN_CLASS. Secrets are
    issued by `manage.py create_oauth_client`, which shows them once."""

    list_display = ("name", "client_id", "organization", "authorization_grant_type",
                    "allowed_scopes")
    list_filter = ("authorization_grant_type", "organization__kind")
    search_fields = ("name", "client_id", "organization__name")
    autocomplete_fields = ("organization",)
    readonly_fields = ("client_id",)
    exclude = ("client_secret",)
