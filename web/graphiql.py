"""The GraphQL endpoint with GraphiQL (DEBUG only) served from local assets."""

from schema.views import CoalitionGraphQLView


class GraphQLView(CoalitionGraphQLView):
    # graphene-django's page with its CDN addresses replaced by web/static/web/graphiql/.
    graphiql_template = "web/graphiql.html"
