"""A funder sees aggregates, never a client: walk every REST operation in the
OpenAPI document and every GraphQL root field (queries and mutations), with real
ids substituted, and look for any client's name, phone, e-mail, A-Number, or any
client or referral id in what comes back."""

from __future__ import annotations

import json
import re

import pytest
from graphene.relay import Node
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

from referrals.models import Client, Consent, Referral, ReferralEvent, ReferralNote
from reporting.models import ServiceEvent
from schema.schema import schema as graphene_schema
from webhooks.models import WebhookDelivery, WebhookSubscription

from .fixtures import CAMBA, FUNDER

pytestmark = pytest.mark.django_db

SCHEMA = graphene_schema.graphql_schema
# A token minted with every scope: the funder's application can hold none of the
# referral scopes, so the principal must still see no client.
GREEDY = "orgs:read referrals:read referrals:write reports:read webhooks:manage admin"


def secrets_of(casework) -> list[str]:
    values = []
    for client in casework.clients.values():
        values += [client.given_name, client.family_name, client.phone, client.email,
                   client.a_number, str(client.pk)]
    values += [str(r.pk) for r in casework.referrals.values()]
    assert len(values) == len(set(values))
    return values


def assert_no_secret(text: str, secrets: list[str], what: str):
    lowered = text.lower()
    found = [s for s in secrets if s.lower() in lowered]
    assert not found, f"{what} leaks {found[:3]}"


@pytest.fixture
def ids(casework):
    referral = casework.referrals["R1"]
    client = referral.client
    consent = next(c for c in casework.consents if c.client_id == client.pk)
    ReferralNote.objects.create(referral=referral, author_org=referral.sending_org,
                                text=f"Call {client.given_name} at {client.phone}")
    ReferralEvent.objects.create(referral=referral, kind="created",
                                 organization=referral.sending_org, to_status="requested",
                                 reason=f"for {client.family_name}", version=1)
    # CAMBA's webhook, with one delivery: a funder may not see or touch either.
    webhook = WebhookSubscription.objects.create(
        organization=referral.receiving_org, url="https://cases.camba.example/hooks",
        events=["referral.created"], secret="whsec_" + "A" * 43)
    delivery = WebhookDelivery.objects.create(subscription=webhook, event_type="webhook.ping",
                                              body="{}")
    return {"referral": str(referral.pk), "client": str(client.pk), "consent": str(consent.pk),
            "event": str(casework.events["E1"].pk), "slug": CAMBA, "code": "asylum",
            "grant": str(next(iter(casework.grants.values())).pk),
            "webhook": str(webhook.pk), "delivery": str(delivery.pk)}


# --- REST ---------------------------------------------------------------------------------

def path_value(path: str, name: str, ids: dict) -> str:
    if name == "consent_id":
        return ids["consent"]
    if name == "slug":
        return ids["slug"]
    if name == "code":
        return ids["code"]
    if name == "delivery_id":
        return ids["delivery"]
    assert name == "id", (path, name)
    for prefix, key in (("/api/v1/referrals/", "referral"), ("/api/v1/clients/", "client"),
                        ("/api/v1/service-events/", "event"), ("/api/v1/grants/", "grant"),
                        ("/api/v1/webhooks/", "webhook")):
        if path.startswith(prefix):
            return ids[key]
    raise AssertionError(f"no id for {path}")


QUERY_VALUES = {"org": CAMBA, "fiscal_year": "2017-18", "service_type": "asylum",
                "client": None, "parent": None}


def query_for(operation: dict, ids: dict) -> dict:
    query = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        name = parameter["name"]
        if name in ("client", "parent"):
            query[name] = ids["client" if name == "client" else "referral"]
        elif parameter.get("required"):
            query[name] = QUERY_VALUES[name]
    return query


def strip_echo(response, path: str) -> str:
    """The body, without the problem document's echo of the caller's own URL."""
    text = response.content.decode("utf-8", "replace")
    if response["Content-Type"].startswith(("application/json", "application/problem+json")):
        body = json.loads(text) if text else None
        if isinstance(body, dict) and body.get("instance") == path:
            del body["instance"]
        return json.dumps(body)
    return text


# What a funder may read: the directory, the service taxonomy, reports, its grants,
# the (empty) list of service events, and who it is. Everything else is 403 or 404.
FUNDER_READABLE = {"/api/v1/organizations/", "/api/v1/organizations/{slug}/",
                   "/api/v1/service-types/", "/api/v1/service-types/{code}/",
                   "/api/v1/reports/service-numbers/", "/api/v1/reports/budget-request/",
                   "/api/v1/grants/", "/api/v1/grants/{id}/", "/api/v1/service-events/",
                   "/api/v1/me/"}


@pytest.mark.parametrize("scopes", [None, GREEDY], ids=["funder-token", "greedy-token"])
def test_every_rest_operation(api, casework, ids, scopes):
    secrets = secrets_of(casework)
    client = api(FUNDER, scopes=scopes)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    document = json.loads(response.content)
    operations = [(path, method, op) for path, item in document["paths"].items()
                  for method, op in item.items() if method in ("get", "post", "patch", "put",
                                                               "delete")]
    assert len(operations) >= 25
    walked = set()
    before = (Client.objects.count(), Referral.objects.count(), Consent.objects.count(),
              ServiceEvent.objects.count(), ReferralNote.objects.count())
    for template, method, operation in operations:
        path = re.sub(r"\{(\w+)\}", lambda m: path_value(template, m.group(1), ids), template)
        if method == "get":
            response = client.get(path, query_for(operation, ids))
        else:
            body = {"client": ids["client"], "receiving_org": CAMBA, "service_type": "asylum",
                    "text": "hello", "to": "cancelled", "reason": "test"}
            response = getattr(client, method)(
                path, json.dumps(body) if method != "post" else body,
                content_type="application/json",
                **({} if method == "post" else {"headers": {
                    "Authorization": f"Bearer {client.token}", "If-Match": '"1"'}}))
        walked.add((template, method))
        status = response.status_code
        assert status < 500, (method, path, response.content)
        assert_no_secret(strip_echo(response, path), secrets, f"{method.upper()} {path}")
        if method != "get" or template not in FUNDER_READABLE:
            assert status in (401, 403, 404, 405), (method, path, status, response.content)
        else:
            assert status == 200, (method, path, status, response.content)
    # Nothing was written on the funder's say-so.
    assert (Client.objects.count(), Referral.objects.count(), Consent.objects.count(),
            ServiceEvent.objects.count(), ReferralNote.objects.count()) == before
    assert {("/api/v1/clients/", "get"), ("/api/v1/clients/{id}/", "get"),
            ("/api/v1/referrals/{id}/", "get"), ("/api/v1/referrals/", "post"),
            ("/api/v1/clients/{id}/consents/{consent_id}/revoke/", "post"),
            ("/api/v1/reports/service-numbers/", "get")} <= walked


def test_rest_reports_for_a_funder_carry_no_client_data(api, casework, ids):
    """Every dimension of the service numbers, and the budget request in every format."""
    secrets = secrets_of(casework)
    client = api(FUNDER)
    for dims in ["receiving_org,sending_org,client_language", "district,service_type,priority",
                 "intake_channel,period", "outcome,receiving_org"]:
        for fmt in ("json", "csv"):
            response = client.get("/api/v1/reports/service-numbers/",
                                  {"dimensions": dims, "format": fmt, "period": "month"})
            assert response.status_code == 200
            assert_no_secret(response.content.decode("utf-8"), secrets, dims)
    for fmt in ("json", "csv", "html"):
        response = client.get("/api/v1/reports/budget-request/",
                              {"org": CAMBA, "fiscal_year": "2017-18", "format": fmt})
        assert response.status_code == 200
        assert_no_secret(response.content.decode("utf-8"), secrets, f"budget {fmt}")


# --- GraphQL ------------------------------------------------------------------------------

def selection(graphql_type, depth: int) -> str:
    """Every field without required arguments, objects followed ``depth`` levels down."""
    named = get_named_type(graphql_type)
    if is_leaf_type(named):
        return ""
    if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
        parts = ["__typename"]
        for possible in SCHEMA.get_possible_types(named):
            inner = selection(possible, depth)
            if inner:
                parts.append(f"... on {possible.name} {{ {inner} }}")
        return " ".join(parts)
    assert isinstance(named, GraphQLObjectType)
    parts = []
    for name, field in named.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
            continue
        if is_leaf_type(get_named_type(field.type)):
            parts.append(name)
        elif depth > 0:
            inner = selection(field.type, depth - 1)
            if inner:
                parts.append(f"{name} {{ {inner} }}")
    return " ".join(parts)


def argument_value(field_name: str, arg_name: str, arg_type, ids: dict):
    named = get_named_type(arg_type)
    by_name = {
        ("referral", "id"): ids["referral"], ("client", "id"): ids["client"],
        ("clientConsents", "clientId"): ids["client"], ("organization", "slug"): CAMBA,
        ("serviceType", "code"): "asylum", ("budgetRequest", "org"): CAMBA,
        ("budgetRequest", "fiscalYear"): "2017-18",
        ("routingSuggestions", "serviceType"): "asylum",
    }
    if (field_name, arg_name) in by_name:
        return by_name[(field_name, arg_name)]
    if arg_name in ("clientId", "client"):
        return ids["client"]
    if arg_name == "consentId":
        return ids["consent"]
    if arg_name in ("id", "parent"):
        return ids["event"] if "ServiceEvent" in field_name else ids["referral"]
    return literal_for(named, arg_name, ids)


def literal_for(named, name: str, ids: dict):
    """A plausible value of an input type (for the required arguments of mutations)."""
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLInputObjectType):
        return {field_name: literal_for(get_named_type(f.type), field_name, ids)
                for field_name, f in named.fields.items()
                if isinstance(f.type, GraphQLNonNull) or field_name in ("clientId", "client")}
    return {"UUID": ids["client"] if "client" in name.lower() else ids["referral"],
            "Int": 1, "Float": 1.0, "Boolean": False, "Date": "2017-05-01",
            "DateTime": "2017-05-01T10:00:00-04:00", "ID": "T3JnYW5pemF0aW9uOjE=",
            "Decimal": "1.00"}.get(named.name, "camba-legal" if "org" in name.lower()
                                   else "asylum")


def type_string(graphql_type) -> str:
    if isinstance(graphql_type, GraphQLNonNull):
        return f"{type_string(graphql_type.of_type)}!"
    if isinstance(graphql_type, GraphQLList):
        return f"[{type_string(graphql_type.of_type)}]"
    return graphql_type.name


def operation(kind: str, name: str, field, ids: dict, optional_ids: bool,
              depth: int = 4) -> tuple[str, dict]:
    declarations, arguments, variables = [], [], {}
    for arg_name, arg in field.args.items():
        required = isinstance(arg.type, GraphQLNonNull)
        id_like = arg_name in ("client", "parent", "clientId")
        if not required and not (optional_ids and id_like):
            continue
        variables[arg_name] = argument_value(name, arg_name, arg.type, ids)
        declarations.append(f"${arg_name}: {type_string(arg.type)}")
        arguments.append(f"{arg_name}: ${arg_name}")
    if "first" in field.args:
        arguments.append("first: 1")  # one item keeps a deep selection within the cost limit
    inner = selection(field.type, depth)
    header = f"({', '.join(declarations)})" if declarations else ""
    call = f"{name}({', '.join(arguments)})" if arguments else name
    body = f"{call} {{ {inner} }}" if inner else call
    return f"{kind} Walk{header} {{ {body} }}", variables


def node_queries(ids: dict) -> list[tuple[str, dict]]:
    """`node(id:)` with global ids made from real client and referral ids."""
    inner = selection(SCHEMA.query_type.fields["node"].type, 3)
    query = f"query Walk($id: ID!) {{ node(id: $id) {{ {inner} }} }}"
    return [(query, {"id": Node.to_global_id(type_name, value)})
            for type_name, value in (("Referral", ids["referral"]), ("Client", ids["client"]),
                                     ("ClientType", ids["client"]),
                                     ("ReferralType", ids["referral"]),
                                     ("Consent", ids["consent"]))]


ALLOWED_ERRORS = {"insufficient_scope", "not_found", "permission_denied", "validation_error",
                  "report_scope_denied"}


@pytest.mark.parametrize("scopes", [None, GREEDY], ids=["funder-token", "greedy-token"])
def test_every_graphql_field(api, casework, ids, scopes):
    secrets = secrets_of(casework)
    client = api(FUNDER, scopes=scopes)
    documents = []  # (kind, name, field, optional ids?) or a ready node query
    for name, field in SCHEMA.query_type.fields.items():
        documents.append(("query", name, field, False))
        if any(a in field.args for a in ("client", "parent", "clientId")):
            documents.append(("query", name, field, True))
    for query, variables in node_queries(ids):
        documents.append(("query", "node", None, (query, variables)))
    for name, field in SCHEMA.mutation_type.fields.items():
        documents.append(("mutation", name, field, True))
    assert {"serviceNumbers", "budgetRequest", "referrals", "referral", "clients", "client",
            "clientConsents", "node", "createReferral", "eraseClient",
            "createServiceEvent"} <= {name for _, name, _, _ in documents}
    before = (Client.objects.filter(given_name__startswith="Zq").count(),
              Referral.objects.count(), Consent.objects.count(), ServiceEvent.objects.count())
    for kind, name, field, how in documents:
        # Select as deep as the GraphQL cost limit allows (schema/limits.py).
        for depth in (4, 3, 2, 1, 0):
            query, variables = how if field is None else operation(kind, name, field, ids, how,
                                                                   depth)
            response = client.graphql(query, variables)
            body = response.json()
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
            if "query_too_costly" not in codes:
                break
        assert response.status_code in (200, 400), (name, response.content)
        assert_no_secret(response.content.decode(), secrets, f"{kind} {name}")
        if name == "node":  # see test_node_with_a_foreign_global_id_is_not_found
            assert body["data"] == {"node": None}, body
            continue
        # A document the schema refuses never reaches a resolver.
        assert codes <= ALLOWED_ERRORS, (name, query, body)
        data = (body.get("data") or {}).get(name)
        if name in ("referrals", "referral", "clients", "client", "clientConsents",
                    "routingSuggestions", "referralChanges", "webhookSubscriptions",
                    "webhookDeliveries") or kind == "mutation":
            assert not data or data == {"edges": []}, (name, data)
            assert codes, f"{kind} {name} should be refused"
    assert (Client.objects.filter(given_name__startswith="Zq").count(), Referral.objects.count(),
            Consent.objects.count(), ServiceEvent.objects.count()) == before


def test_node_with_a_foreign_global_id_is_not_found(api, casework, ids):
    for query, variables in node_queries(ids):
        body = api(FUNDER).graphql(query, variables).json()
        assert body["data"] == {"node": None}
        assert body["errors"][0]["extensions"]["code"] in ("not_found", "validation_error")


def test_the_detector_finds_client_data_where_it_is_shown(api, casework, ids):
    """The same checks on the receiving organisation's own view do find the client."""
    secrets = secrets_of(casework)
    camba = api(CAMBA)
    path = f"/api/v1/clients/{ids['client']}/"
    response = camba.get(path)
    assert response.status_code == 200
    with pytest.raises(AssertionError, match="leaks"):
        assert_no_secret(strip_echo(response, path), secrets, path)
    body = camba.graphql("query($id: UUID!) { referral(id: $id) { id client { familyName } } }",
                         {"id": ids["referral"]})
    with pytest.raises(AssertionError, match="leaks"):
        assert_no_secret(body.content.decode(), secrets, "referral")
