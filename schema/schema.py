"""The one GraphQL schema: a root Query composed from schema/<domain>.py."""

import graphene
from graphene import relay

from .orgs import OrgsQuery


class Query(OrgsQuery, graphene.ObjectType):
    node = relay.Node.Field()


schema = graphene.Schema(query=Query)
