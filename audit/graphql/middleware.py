"""Graphene middleware noting which client-data objects a GraphQL response holds."""

from referrals.models import Client, Consent, Referral, ReferralEvent, ReferralNote

from core import context


class AuditReadsMiddleware:
    def resolve(self, next, root, info, **args):
        if info.path.prev is None:
            context.note_root_field(info.operation.operation.value, info.field_name)
        if isinstance(root, Referral):
            context.note_read("referral", root.pk)
        elif isinstance(root, Client):
            context.note_read("client", root.pk)
        elif isinstance(root, (ReferralEvent, ReferralNote)):
            context.note_read("referral", root.referral_id)
        elif isinstance(root, Consent):
            context.note_read("client", root.client_id)
        return next(root, info, **args)
