"""Admin for coalition staff: read-mostly views of referrals (history is append-only)."""

from django.contrib import admin

from .models import Referral, ReferralEvent


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "organization", "from_status", "to_status", "reason", "version")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "priority", "sending_org", "receiving_org", "service_type",
                    "created_at")
    list_filter = ("status", "priority", "service_type")
    readonly_fields = [f.name for f in Referral._meta.fields]
    inlines = [ReferralEventInline]
    # Client names stay out of list pages and search: open a referral to see its client.
    search_fields = ("id",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
