"""GraphQL errors with the same stable codes as the REST problem documents."""

from graphql import GraphQLError

from .errors import status_of
from .scopes import missing_scopes_message


class CoalitionError(GraphQLError):
    """An expected failure, reported with ``extensions.code``."""

    def __init__(self, message: str, code: str, **extensions):
        super().__init__(message, extensions={"code": code, "status": status_of(code),
                                              **extensions})


def enum_value(member):
    """Graphene hands enum inputs over as Python enum members; services take values."""
    return getattr(member, "value", member)


def require_scopes(info, *scopes: str):
    """The caller's Principal, if it holds ``scopes``; else an insufficient_scope error."""
    principal = info.context.principal
    if not principal.has_scopes(*scopes):
        raise CoalitionError(
            missing_scopes_message(scopes), code="insufficient_scope"
        )
    return principal
