"""The one GraphQL schema: root Query and Mutation composed from schema/<domain>.py."""

import graphene
from graphene import relay

from .audit import AuditQuery
from .orgs import OrgsQuery
from .referrals import ReferralsMutation, ReferralsQuery
from .reporting import ReportingMutation, ReportingQuery
from .webhooks import WebhooksMutation, WebhooksQuery


class Query(OrgsQuery, ReferralsQuery, ReportingQuery, AuditQuery, WebhooksQuery,
            graphene.ObjectType):
    node = relay.Node.Field()


class Mutation(ReferralsMutation, ReportingMutation, WebhooksMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
