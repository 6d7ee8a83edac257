"""Who may do what with a referral, over every REST endpoint and every GraphQL
field and mutation, and that nobody off the referral learns anything about it.

Callers: the sending org, the receiving org, a partner off the referral (CALA), a
funder (never holds referral scopes), no token, a token with only orgs:read, a
read-only token of the receiving org, and a coalition administrator.
"""

from __future__ import annotations

import json
import uuid
from base64 import b64encode
from dataclasses import dataclass, field

import pytest

from referrals.models import Client, Consent, Referral, ReferralNote

from .factories import make_referral

SECRET_NAME = "Xochitlzyx"  # the client's family name; must never reach an outsider

CALLERS = ["sender", "receiver", "partner", "funder", "anonymous", "orgs_only", "read_only",
           "admin"]
OUTSIDERS = {"partner", "funder", "anonymous", "orgs_only"}


@dataclass
class World:
    referral_id: str
    client_id: str
    consent_id: str

    def fill(self, text: str) -> str:
        """Replace the <rid>, <cid>, <consent> and <key> placeholders."""
        return (text.replace("<rid>", self.referral_id).replace("<cid>", self.client_id)
                .replace("<consent>", self.consent_id).replace("<key>", str(uuid.uuid4())))


@pytest.fixture
def world(coalition):
    """An accepted referral, office -> CAMBA, for a client with consent on file."""
    loop = make_referral("accepted", sender="sd13-peralta-office", receiver="camba-legal",
                         family_name=SECRET_NAME)
    consent = Consent.objects.get(client=loop.client)
    return World(str(loop.id), str(loop.client.pk), str(consent.pk))


@pytest.fixture
def caller(request, api, admin_api):
    kind = request.param
    made = {
        "sender": lambda: api("sd13-peralta-office"),
        "receiver": lambda: api("camba-legal"),
        "partner": lambda: api("cala"),
        "funder": lambda: api("nyc-council", scopes="orgs:read reports:read referrals:read "
                                                    "referrals:write"),
        "anonymous": lambda: api(None),
        "orgs_only": lambda: api("camba-legal", scopes="orgs:read"),
        "read_only": lambda: api("camba-legal", scopes="orgs:read referrals:read"),
        "admin": lambda: admin_api(),
    }[kind]()
    made.kind = kind
    return made


def gate(kind: str, write: bool) -> tuple[int, str] | None:
    """The answer decided before the endpoint looks at any referral, if any."""
    if kind == "anonymous":
        return 401, "not_authenticated"
    if kind in ("funder", "orgs_only"):
        return 403, "insufficient_scope"
    if kind == "read_only" and write:
        return 403, "insufficient_scope"
    return None


def assert_no_leak(world: World, raw: bytes, *, echoed_path: str | None = None):
    """Neither the client's name nor the referral's or client's id appear in a
    response. A problem document's ``instance`` echoes the caller's own request
    path (which may hold an id the caller sent); that member alone is set aside."""
    text = raw.decode()
    if echoed_path is not None and text:
        body = json.loads(text)
        if isinstance(body, dict) and "instance" in body:
            assert body.pop("instance") == echoed_path
            text = json.dumps(body)
    for secret in (SECRET_NAME, world.referral_id, world.client_id, world.consent_id):
        assert secret not in text, f"{secret} leaked in {text[:500]}"


# --- REST -------------------------------------------------------------------------------


@dataclass
class Rest:
    method: str
    path: str
    write: bool
    outcomes: dict  # caller kind -> (status, code or None); "party" = sender and receiver
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    lists: str | None = None  # "referral" or "client": the list must (not) show it


OK = (200, None)
CREATED = (201, None)
NOT_FOUND = (404, "not_found")

REST = {
    "referrals list": Rest("get", "/api/v1/referrals/", False,
                           {"party": OK, "partner": OK, "admin": OK}, lists="referral"),
    "referral retrieve": Rest("get", "/api/v1/referrals/<rid>/", False,
                              {"party": OK, "partner": NOT_FOUND, "admin": OK}),
    "referral create": Rest(
        "post", "/api/v1/referrals/", True,
        {"party": CREATED, "partner": NOT_FOUND, "admin": CREATED},
        body={"client_id": "<cid>", "receiving_org": "cala", "service_type": "asylum",
              "consent": {"method": "verbal"},
              "intake_channel": "district-office"},
        headers={"Idempotency-Key": "<key>"}),
    "referral transition": Rest(
        "post", "/api/v1/referrals/<rid>/transition/", True,
        {"party": OK, "partner": NOT_FOUND, "admin": (403, "not_a_party")},
        body={"to": "cancelled", "reason": "Client moved upstate"},
        headers={"If-Match": '"2"'}),
    "referral forward": Rest(
        "post", "/api/v1/referrals/<rid>/forward/", True,
        {"sender": (403, "not_allowed_for_party"), "receiver": CREATED,
         "partner": NOT_FOUND, "admin": (403, "not_allowed_for_party")},
        body={"receiving_org": "vera-nyifup", "service_type": "removal-defense",
              "consent": {"method": "verbal"}},
        headers={"If-Match": '"2"'}),
    "referral events": Rest("get", "/api/v1/referrals/<rid>/events/", False,
                            {"party": OK, "partner": NOT_FOUND, "admin": OK}),
    "referral notes": Rest("get", "/api/v1/referrals/<rid>/notes/", False,
                           {"party": OK, "partner": NOT_FOUND, "admin": OK}),
    "referral add note": Rest(
        "post", "/api/v1/referrals/<rid>/notes/", True,
        {"party": CREATED, "partner": NOT_FOUND, "admin": (403, "not_a_party")},
        body={"text": "Court date moved to Friday."}),
    "clients list": Rest("get", "/api/v1/clients/", False,
                         {"party": OK, "partner": OK, "admin": OK}, lists="client"),
    "client retrieve": Rest("get", "/api/v1/clients/<cid>/", False,
                            {"party": OK, "partner": NOT_FOUND, "admin": OK}),
    "client create": Rest("post", "/api/v1/clients/", True,
                          {"party": CREATED, "partner": CREATED, "admin": CREATED},
                          body={"given_name": "New", "family_name": "Person"}),
    "client consents": Rest("get", "/api/v1/clients/<cid>/consents/", False,
                            {"party": OK, "partner": NOT_FOUND, "admin": OK}),
    "client add consent": Rest(
        "post", "/api/v1/clients/<cid>/consents/", True,
        {"party": CREATED, "partner": NOT_FOUND, "admin": CREATED},
        body={"shared_with": "vera-nyifup", "method": "written"}),
    "client revoke consent": Rest(
        "post", "/api/v1/clients/<cid>/consents/<consent>/revoke/", True,
        {"party": OK, "partner": NOT_FOUND, "admin": OK}),
    "client erase": Rest(
        "delete", "/api/v1/clients/<cid>/", True,
        {"sender": (204, None), "receiver": (403, "not_client_creator"),
         "partner": NOT_FOUND, "admin": (204, None)}),
    "routing suggestions": Rest("get", "/api/v1/routing/suggestions/?service_type=asylum",
                                False, {"party": OK, "partner": OK, "admin": OK}),
}


def rest_expected(kind: str, endpoint: Rest) -> tuple[int, str | None]:
    decided = gate(kind, endpoint.write)
    if decided:
        return decided
    kind = "receiver" if kind == "read_only" else kind
    return endpoint.outcomes.get(kind) or endpoint.outcomes["party"]


def fill_body(world: World, body):
    if isinstance(body, dict):
        return {key: fill_body(world, value) for key, value in body.items()}
    return world.fill(body) if isinstance(body, str) else body


@pytest.mark.parametrize("caller", CALLERS, indirect=True)
@pytest.mark.parametrize("name", REST)
def test_rest_authorization(world, caller, name):
    endpoint = REST[name]
    path = world.fill(endpoint.path)
    headers = {k: world.fill(v) for k, v in endpoint.headers.items()}
    referrals_before = Referral.objects.count()
    notes_before = ReferralNote.objects.count()
    consents_before = list(Consent.objects.values_list("pk", "revoked_at"))

    if endpoint.method == "get":
        response = caller.get(path, headers=headers)
    elif endpoint.method == "delete":
        if caller.token:
            headers["Authorization"] = f"Bearer {caller.token}"
        response = caller.delete(path, headers=headers)
    else:
        response = caller.post(path, fill_body(world, endpoint.body), headers=headers)

    status, code = rest_expected(caller.kind, endpoint)
    assert response.status_code == status, response.content
    if code is not None:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == code
        if status == 401:
            assert response["WWW-Authenticate"].startswith("Bearer")
        # A refusal changes nothing.
        assert Referral.objects.count() == referrals_before
        assert ReferralNote.objects.count() == notes_before
        assert list(Consent.objects.values_list("pk", "revoked_at")) == consents_before
        assert Referral.objects.get(pk=world.referral_id).version == 2
        assert Client.objects.get(pk=world.client_id).family_name == SECRET_NAME
    if endpoint.lists:
        results = response.json()["results"] if status == 200 else []
        wanted = world.referral_id if endpoint.lists == "referral" else world.client_id
        shown = wanted in {row["id"] for row in results}
        assert shown == (status == 200 and caller.kind not in OUTSIDERS)
    if caller.kind in OUTSIDERS:
        assert_no_leak(world, response.content, echoed_path=path.split("?")[0])


@pytest.mark.parametrize("path", ["/api/v1/referrals/{id}/", "/api/v1/referrals/{id}/events/",
                                  "/api/v1/clients/{id}/"])
def test_an_outsider_cannot_tell_a_hidden_referral_from_a_missing_one(world, api, path):
    partner = api("cala")
    hidden_id = world.client_id if "clients" in path else world.referral_id
    missing_id = str(uuid.uuid4())

    hidden = partner.get(path.format(id=hidden_id))
    missing = partner.get(path.format(id=missing_id))

    assert hidden.status_code == missing.status_code == 404
    hidden_body, missing_body = hidden.json(), missing.json()
    hidden_body.pop("instance"), missing_body.pop("instance")
    assert hidden_body == missing_body
    assert dict(hidden.headers).keys() == dict(missing.headers).keys()


def test_a_partner_filtering_for_the_referral_sees_nothing(world, api):
    partner = api("cala")

    for params in ({"client": world.client_id}, {"parent": world.referral_id},
                   {"receiver": "camba-legal"}, {"sender": "sd13-peralta-office"}):
        response = partner.get("/api/v1/referrals/", params)
        assert response.status_code == 200
        assert response.json()["results"] == []
        assert_no_leak(world, response.content)
    clients = partner.get("/api/v1/clients/", {"search": SECRET_NAME})
    assert clients.json()["count"] == 0


# --- GraphQL ---------------------------------------------------------------------------


@dataclass
class Gql:
    query: str
    write: bool
    outcomes: dict  # caller kind -> code or None (success)
    field: str = ""
    lists: str | None = None

    def __post_init__(self):
        self.field = self.query.split("{", 1)[1].split("(")[0].split("{")[0].strip()


GQL = {
    "referrals": Gql("query { referrals(first: 50) "
                     "{ edges { node { id client { familyName } } } } }",
                     False, {"party": None, "partner": None, "admin": None}, lists="referral"),
    "referral": Gql("query { referral(id: \"<rid>\") { id status client { familyName } } }",
                    False, {"party": None, "partner": "not_found", "admin": None}),
    "clients": Gql("query { clients(first: 50) { edges { node { id familyName } } } }",
                   False, {"party": None, "partner": None, "admin": None}, lists="client"),
    "client": Gql("query { client(id: \"<cid>\") { id familyName } }",
                  False, {"party": None, "partner": "not_found", "admin": None}),
    "clientConsents": Gql("query { clientConsents(clientId: \"<cid>\") { id sharedWith } }",
                          False, {"party": None, "partner": "not_found", "admin": None}),
    "routingSuggestions": Gql(
        "query { routingSuggestions(serviceType: \"asylum\") { organization { slug } score } }",
        False, {"party": None, "partner": None, "admin": None}),
    "createReferral": Gql(
        "mutation { createReferral(idempotencyKey: \"<key>\", input: {clientId: \"<cid>\", "
        "receivingOrg: \"cala\", serviceType: \"asylum\", intakeChannel: HOTLINE, "
        "consent: {method: VERBAL}}) "
        "{ referral { id client { familyName } } replayed } }",
        True, {"party": None, "partner": "not_found", "admin": None}),
    "transitionReferral": Gql(
        "mutation { transitionReferral(id: \"<rid>\", expectedVersion: 2, to: CANCELLED, "
        "reason: \"Client moved\") { referral { id status } } }",
        True, {"party": None, "partner": "not_found", "admin": "not_a_party"}),
    "forwardReferral": Gql(
        "mutation { forwardReferral(id: \"<rid>\", expectedVersion: 2, receivingOrg: "
        "\"vera-nyifup\", serviceType: \"removal-defense\", consent: {method: VERBAL}) "
        "{ parent { id status } child { id parentId } } }",
        True, {"sender": "not_allowed_for_party", "receiver": None, "partner": "not_found",
               "admin": "not_allowed_for_party"}),
    "addReferralNote": Gql(
        "mutation { addReferralNote(id: \"<rid>\", text: \"Hearing moved\") "
        "{ note { id text authorOrg } } }",
        True, {"party": None, "partner": "not_found", "admin": "not_a_party"}),
    "createClient": Gql(
        "mutation { createClient(input: {givenName: \"New\", familyName: \"Person\"}) "
        "{ client { id familyName } } }",
        True, {"party": None, "partner": None, "admin": None}),
    "recordConsent": Gql(
        "mutation { recordConsent(clientId: \"<cid>\", sharedWith: \"vera-nyifup\", "
        "consent: {method: WRITTEN}) { consent { id active sharedWith } } }",
        True, {"party": None, "partner": "not_found", "admin": None}),
    "revokeConsent": Gql(
        "mutation { revokeConsent(clientId: \"<cid>\", consentId: \"<consent>\") "
        "{ consent { id active } } }",
        True, {"party": None, "partner": "not_found", "admin": None}),
    "eraseClient": Gql(
        "mutation { eraseClient(id: \"<cid>\") { client { id familyName erasedAt } } }",
        True, {"sender": None, "receiver": "not_client_creator", "partner": "not_found",
               "admin": None}),
}


def gql_expected(kind: str, operation: Gql) -> tuple[int, str | None]:
    decided = gate(kind, operation.write)
    if decided:
        return decided[0] if decided[0] == 401 else 200, decided[1]
    kind = "receiver" if kind == "read_only" else kind
    outcomes = operation.outcomes
    return 200, outcomes[kind] if kind in outcomes else outcomes["party"]


@pytest.mark.parametrize("caller", CALLERS, indirect=True)
@pytest.mark.parametrize("name", GQL)
def test_graphql_authorization(world, caller, name):
    operation = GQL[name]
    referrals_before = Referral.objects.count()
    consents_before = list(Consent.objects.values_list("pk", "revoked_at"))

    response = caller.graphql(world.fill(operation.query))

    status, code = gql_expected(caller.kind, operation)
    assert response.status_code == status, response.content
    body = response.json()
    if code is not None:
        assert body["errors"][0]["extensions"]["code"] == code, body
        assert (body.get("data") or {}).get(operation.field) is None
        assert Referral.objects.count() == referrals_before
        assert list(Consent.objects.values_list("pk", "revoked_at")) == consents_before
        assert Referral.objects.get(pk=world.referral_id).version == 2
        assert Client.objects.get(pk=world.client_id).family_name == SECRET_NAME
    else:
        assert "errors" not in body, body
        assert body["data"][operation.field] is not None
    if operation.lists:
        edges = body["data"][operation.field]["edges"] if code is None else []
        wanted = world.referral_id if operation.lists == "referral" else world.client_id
        shown = wanted in {edge["node"]["id"] for edge in edges}
        assert shown == (code is None and caller.kind not in OUTSIDERS)
    if caller.kind in OUTSIDERS:
        assert_no_leak(world, response.content)


def test_graphql_node_cannot_fetch_a_referral(world, api):
    partner = api("cala")
    for type_name in ("Referral", "ReferralType", "Client"):
        global_id = b64encode(f"{type_name}:{world.referral_id}".encode()).decode()
        response = partner.graphql('query($id: ID!) { node(id: $id) { id } }',
                                   {"id": global_id})
        assert (response.json().get("data") or {}).get("node") is None
        assert_no_leak(world, response.content.replace(global_id.encode(), b""))


def test_graphql_partner_filters_reveal_nothing(world, api):
    partner = api("cala")

    response = partner.graphql(
        'query($c: UUID) { referrals(first: 10, client: $c) { edges { node { id } } } '
        'clients(first: 10, search: "%s") { edges { node { id } } } }' % SECRET_NAME,
        {"c": world.client_id})

    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["referrals"]["edges"] == []
    assert body["data"]["clients"]["edges"] == []
