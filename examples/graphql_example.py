#!/usr/bin/env python3
"""The Coalition API over GraphQL: list the referrals waiting for us, accept one.

    graphql_example.py               # accepts the first referral waiting for us
    graphql_example.py REFERRAL_ID   # accepts this one

Configuration: COALITION_URL (default http://127.0.0.1:8000), COALITION_CLIENT_ID
(default demo-camba) and COALITION_CLIENT_SECRET (default: the demo's <client_id>-secret).
"""

from __future__ import annotations

import os
import sys

import requests

URL = os.environ.get("COALITION_URL", "http://127.0.0.1:8000").rstrip("/")
CLIENT_ID = os.environ.get("COALITION_CLIENT_ID", "demo-camba")
CLIENT_SECRET = os.environ.get("COALITION_CLIENT_SECRET", f"{CLIENT_ID}-secret")

ME = "{ me { organization { slug name } scopes } }"

WAITING = """
query Waiting($org: String!) {
  referrals(receiver: $org, status: ["requested"], first: 5) {
    edges { node { id status version priority createdAt
                   serviceType { code } sendingOrg { slug } } }
  }
}"""

VERSION = "query Version($id: UUID!) { referral(id: $id) { id version } }"

ACCEPT = """
mutation Accept($id: UUID!, $version: Int!) {
  transitionReferral(id: $id, expectedVersion: $version, to: ACCEPTED) {
    referral { id status version acceptedAt }
  }
}"""


class GraphQLError(Exception):
    pass


def graphql(session: requests.Session, query: str, **variables) -> dict:
    """Run one operation; raise GraphQLError with the first error's message and code."""
    response = session.post(f"{URL}/graphql/", json={"query": query, "variables": variables},
                            timeout=30)
    try:
        body = response.json()
    except ValueError:
        raise GraphQLError(f"HTTP {response.status_code}: {response.text[:200]}") from None
    if body.get("errors"):
        error = body["errors"][0]
        code = (error.get("extensions") or {}).get("code", f"http_{response.status_code}")
        raise GraphQLError(f"{error['message']} (code: {code})")
    return body["data"]


def main() -> int:
    session = requests.Session()
    try:
        token = session.post(f"{URL}/o/token/", data={"grant_type": "client_credentials"},
                             auth=(CLIENT_ID, CLIENT_SECRET), timeout=30)
        if token.status_code != 200:
            raise GraphQLError(f"no token: {token.status_code} {token.text[:200]}")
        session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

        ours = graphql(session, ME)["me"]["organization"]["slug"]
        waiting = [edge["node"] for edge in graphql(session, WAITING, org=ours)
                   ["referrals"]["edges"]]
        print(f"Referrals waiting for {ours}:")
        for r in waiting:
            print(f"  {r['id']} {r['priority']:<7} {r['serviceType']['code']:<18} "
                  f"from {r['sendingOrg']['slug']} (v{r['version']})")

        if len(sys.argv) > 1:
            target = graphql(session, VERSION, id=sys.argv[1])["referral"]
        elif waiting:
            target = waiting[0]
        else:
            print("Nothing to accept.")
            return 0
        # expectedVersion: the version we read; if someone changed it since, the API
        # answers version_mismatch instead of overwriting their change.
        accepted = graphql(session, ACCEPT, id=target["id"], version=target["version"])
        r = accepted["transitionReferral"]["referral"]
        print(f"Accepted {r['id']}: {r['status']} v{r['version']} at {r['acceptedAt']}")
    except GraphQLError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except requests.RequestException as error:
        print(f"error: cannot reach {URL}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
