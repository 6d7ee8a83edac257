"""The one GraphQL schema: root Query and Mutation composed from each app's graphql/schema.py."""

import graphene
from graphene import relay

from audit.graphql.schema import AuditQuery
from orgs.graphql.schema import OrgsQuery
from referrals.graphql.schema import ReferralsMutation, ReferralsQuery
from reporting.graphql.schema import ReportingMutation, ReportingQuery
from webhooks.graphql.schema import WebhooksMutation, WebhooksQuery


class Query(OrgsQuery, ReferralsQuery, ReportingQuery, AuditQuery, WebhooksQuery,
            graphene.ObjectType):
    node = relay.Node.Field()


class Mutation(ReferralsMutation, ReportingMutation, WebhooksMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
