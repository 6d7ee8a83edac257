"""Admin for coalition staff: read-mostly views of referrals (history is append-only)."""

from django.contrib import admin

from core.context import note_read

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

    # Every referral an admin page shows is a read of client data, in the audit trail
    # (channel "admin", the signed-in user) like the API's and the staff app's.
    def get_object(self, request, object_id, from_field=None):
        referral = super().get_object(request, object_id, from_field)
        if referral is not None:
            note_read("referral", referral.pk)
            note_read("client", referral.client_id)
        return referral

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            for referral in changelist.result_list:
                note_read("referral", referral.pk)
        return response
