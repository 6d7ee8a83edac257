"""Validation rules that keep one GraphQL request cheap: depth, aliases and an
estimated cost, checked before anything runs. Written on graphql-core's
ValidationRule; fragments are followed once each, so cycles cannot loop."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    ValidationRule,
)
from graphql.validation.validate import ValidationAbortedError

DEFAULT_LIST_SIZE = 10  # assumed length of a plain list field
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


def _unwrap(graphql_type):
    is_list = False
    while isinstance(graphql_type, (GraphQLNonNull, GraphQLList)):
        if isinstance(graphql_type, GraphQLList):
            is_list = True
        graphql_type = graphql_type.of_type
    return graphql_type, is_list


class LimitExceeded(ValidationAbortedError):
    """A document over a limit: validation stops at it."""


def query_limits_rule(*, max_depth: int, max_aliases: int, max_cost: int, page_size: int,
                      introspection: bool = False):
    """A ValidationRule class enforcing the limits (codes: query_too_deep,
    too_many_aliases, query_too_costly).

    With ``introspection`` on, ``__schema`` and ``__type`` selections are exempt from the
    depth and cost limits (their aliases still count), so the standard introspection
    query, 13 levels deep, works in GraphiQL and gql. What keeps introspection cheap is
    graphql-core's MaxIntrospectionDepthRule, one of the spec's rules: it refuses
    ``fields { type { fields { type { fields ...`` (the only way an introspection answer
    grows without bound)."""

    class QueryLimitsRule(ValidationRule):
        def __init__(self, context):
            super().__init__(context)
            self.fragments = {
                d.name.value: d for d in context.document.definitions
                if getattr(d, "kind", None) == "fragment_definition"}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_):
            schema = self.context.schema
            root = {"query": schema.query_type, "mutation": schema.mutation_type,
                    "subscription": schema.subscription_type}[node.operation.value]
            self.aliases = 0
            self.max_seen_depth = 0
            cost = self._cost(node.selection_set, root, 1, set())
            # Over a limit, validation stops here: the spec's rules below the operation
            # never run on the document (OverlappingFieldsCanBeMerged is quadratic in
            # its fields: about a second of CPU for the largest document allowed).
            # graphql-core answers an aborted validation with the aborting error alone.
            if self.max_seen_depth > max_depth:
                raise LimitExceeded(
                    f"The query is {self.max_seen_depth} levels deep; the limit is {max_depth}.",
                    node, extensions={"code": "query_too_deep"})
            if self.aliases > max_aliases:
                raise LimitExceeded(
                    f"The query uses {self.aliases} aliases; the limit is {max_aliases}.",
                    node, extensions={"code": "too_many_aliases"})
            if cost > max_cost:
                raise LimitExceeded(
                    f"The query's estimated cost is {cost}; the limit is {max_cost}. Ask for "
                    "fewer items (first/last) or fewer nested lists.",
                    node, extensions={"code": "query_too_costly"})
            return self.SKIP

        @staticmethod
        def _page(field_node: FieldNode) -> int | None:
            """The page size a field asks for with first/last, if it takes one."""
            for argument in field_node.arguments or ():
                if argument.name.value in ("first", "last"):
                    if isinstance(argument.value, IntValueNode):
                        return max(1, min(int(argument.value.value), page_size))
                    return page_size  # a variable: assume the most
            return None

        def _multiplier(self, field_node: FieldNode, field_type, is_list: bool,
                        list_size: int) -> int:
            if field_node.name.value == "edges":
                return 1  # the connection field above already counted its page
            if getattr(field_type, "name", "").endswith("Connection"):
                return self._page(field_node) or page_size
            return list_size if is_list else 1

        def _cost(self, selection_set, parent_type, depth: int, seen_fragments: set,
                  list_size: int = DEFAULT_LIST_SIZE) -> int:
            """``list_size``: the length assumed for the lists in this selection; a page
            object that is no connection (e.g. referralChanges(first:)) sets it for the
            lists just below it."""
            if selection_set is None:
                return 0
            self.max_seen_depth = max(self.max_seen_depth, depth)
            if depth > max_depth + 1:
                return 0  # already too deep; stop walking
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    if selection.alias is not None:
                        self.aliases += 1
                    if introspection and selection.name.value in INTROSPECTION_FIELDS:
                        self._count_aliases(selection.selection_set, seen_fragments)
                        continue
                    field_type = definition = None
                    if isinstance(parent_type, GraphQLObjectType) or hasattr(parent_type, "fields"):
                        definition = parent_type.fields.get(selection.name.value)
                        if definition is not None:
                            field_type = definition.type
                    named, is_list = _unwrap(field_type) if field_type is not None else (None, False)
                    child_list_size = DEFAULT_LIST_SIZE
                    if (definition is not None and "first" in definition.args and not is_list
                            and not getattr(named, "name", "").endswith("Connection")):
                        child_list_size = self._page(selection) or page_size
                    children = self._cost(selection.selection_set, named, depth + 1,
                                          seen_fragments, child_list_size) \
                        if selection.selection_set else 0
                    total += 1 + self._multiplier(selection, named, is_list, list_size) * children
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    fragment_type = (self.context.schema.get_type(condition.name.value)
                                     if condition else parent_type)
                    total += self._cost(selection.selection_set, fragment_type, depth,
                                        seen_fragments, list_size)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen_fragments:
                        continue  # unknown or cyclic: the spec's rules report it
                    fragment_type = self.context.schema.get_type(
                        fragment.type_condition.name.value)
                    total += self._cost(fragment.selection_set, fragment_type, depth,
                                        seen_fragments | {name}, list_size)
            return total

        def _count_aliases(self, selection_set, seen_fragments: set) -> None:
            if selection_set is None:
                return
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    self.aliases += selection.alias is not None
                    self._count_aliases(selection.selection_set, seen_fragments)
                elif isinstance(selection, InlineFragmentNode):
                    self._count_aliases(selection.selection_set, seen_fragments)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in seen_fragments:
                        self._count_aliases(fragment.selection_set, seen_fragments | {name})

    return QueryLimitsRule
