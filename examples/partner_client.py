#!/usr/bin/env python3
"""A partner system's client for the Coalition Referral API, in one file.

It shows the four things every partner integration does:

* gets an access token by client credentials, keeps it, and gets a new one shortly
  before it expires (or at once, if the API says it is no longer valid);
* pulls the referrals that changed since its last sync (``/referrals/changes/``),
  storing the position the API hands back;
* accepts a referral, naming the version it read (``If-Match``);
* receives webhooks, checking their Standard Webhooks signature.

Usage (see examples/README.md):

    partner_client.py sync [--state FILE]
    partner_client.py accept REFERRAL_ID
    partner_client.py listen --port 8765 --secret whsec_...

Configuration: --url/--client-id/--client-secret, or the environment variables
COALITION_URL, COALITION_CLIENT_ID, COALITION_CLIENT_SECRET (and
COALITION_WEBHOOK_SECRET for listen). The organisation comes from GET /api/v1/me/. Needs only `requests` and `standardwebhooks`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

REFRESH_MARGIN = 60  # get a new token when the current one has less than this left (s)


class ApiError(Exception):
    """A failed API call, from its problem+json body (RFC 9457) when it has one."""

    def __init__(self, response: requests.Response):
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        self.status = response.status_code
        # /o/token/ answers in OAuth's own shape: {"error": ..., "error_description": ...}
        self.code = problem.get("code") or problem.get("error") or f"http_{self.status}"
        self.title = problem.get("title") or response.reason or "Error"
        self.detail = (problem.get("detail") or problem.get("error_description")
                       or ("" if problem else response.text[:200]))
        super().__init__(f"{self.status} {self.title}: {self.detail or '-'} (code: {self.code})")


class InvalidWebhook(Exception):
    """The request is not a correctly signed, recent webhook."""


class CoalitionClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str,
                 timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.credentials = (client_id, client_secret)
        self.timeout = timeout
        self.session = requests.Session()
        self.token: str | None = None
        self.expires_at = 0.0     # time.time() at which the token expires
        self.tokens_fetched = 0   # how many tokens this client asked for

    # --- the access token --------------------------------------------------------

    def access_token(self) -> str:
        """The cached token, or a new one when there is none or it is about to expire.
        (Client credentials have no refresh token: "refreshing" is asking again.)"""
        if self.token is None or time.time() > self.expires_at - REFRESH_MARGIN:
            response = self.session.post(f"{self.base_url}/o/token/",
                                         data={"grant_type": "client_credentials"},
                                         auth=self.credentials, timeout=self.timeout)
            if response.status_code != 200:
                raise ApiError(response)
            grant = response.json()
            self.token = grant["access_token"]
            self.expires_at = time.time() + grant.get("expires_in", 3600)
            self.tokens_fetched += 1
        return self.token

    def request(self, method: str, path: str, *, headers: dict | None = None,
                **kwargs) -> requests.Response:
        """Call the API with the token. A 401 means the token was revoked or expired
        early: get a new one and try once more. Raises ApiError for any 4xx/5xx."""
        for last_try in (False, True):
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.access_token()}", **(headers or {})},
                **kwargs)
            if response.status_code == 401 and not last_try:
                self.token = None
                continue
            if response.status_code >= 400:
                raise ApiError(response)
            return response

    # --- who we are, sync and accept ----------------------------------------------------

    def organization(self) -> str:
        """The slug of the organisation this client's token acts for."""
        return self.request("GET", "/api/v1/me/").json()["organization"]

    def sync(self, state_file: str | Path, page_size: int = 100):
        """Yield each referral (as it is now) that changed since the last sync.

        The position (next_since) is stored in state_file after the caller has taken
        every referral of a page, so a sync that dies part-way repeats at most one page
        on the next run and never skips a change."""
        state = Path(state_file)
        since = json.loads(state.read_text())["since"] if state.exists() else None
        while True:
            params = {"page_size": page_size}
            if since:
                params["since"] = since
            page = self.request("GET", "/api/v1/referrals/changes/", params=params).json()
            yield from page["results"]
            since = page["next_since"]
            temporary = state.with_name(state.name + ".tmp")
            temporary.write_text(json.dumps({"since": since}))
            temporary.replace(state)  # atomic: the file is the old position or the new
            if not page["more"]:
                return

    def accept(self, referral_id: str) -> dict:
        """Accept a referral. If it changed between our read and our write (412),
        read it again and retry once; an invalid move (e.g. already accepted) is 409."""
        path = f"/api/v1/referrals/{referral_id}/"
        for last_try in (False, True):
            etag = self.request("GET", path).headers["ETag"]
            try:
                return self.request("POST", path + "transition/", json={"to": "accepted"},
                                    headers={"If-Match": etag}).json()
            except ApiError as error:
                if error.status != 412 or last_try:
                    raise


# --- webhooks ------------------------------------------------------------------------

def verify_webhook(secret: str, body: bytes, headers) -> dict:
    """The event, if body and headers carry a valid, recent signature made with secret.
    Raises InvalidWebhook otherwise (malformed headers included)."""
    try:
        return Webhook(secret).verify(body, dict(headers.items()))
    except (WebhookVerificationError, ValueError) as error:
        raise InvalidWebhook(str(error) or type(error).__name__) from None


def event_line(event: dict) -> str:
    """One line about an event, e.g. "referral.created 3f2b... status=requested version=1"."""
    data = event.get("data") or {}
    subject = data.get("referral") or data.get("client") or data.get("webhook") or {}
    details = " ".join(f"{key}={subject[key]}" for key in ("status", "version")
                       if key in subject)
    return " ".join(filter(None, [event.get("type"), subject.get("id"), details]))


def listen(port: int, secret: str, host: str = "127.0.0.1") -> None:
    """Receive webhooks: 204 to a valid one (printed once, even if it is delivered
    again), 400 to anything not signed with secret."""
    seen: set[str] = set()  # webhook-ids handled; a real receiver keeps these in its database
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            try:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            except ValueError:
                return self.answer(400)
            try:
                event = verify_webhook(secret, body, self.headers)
            except InvalidWebhook as error:
                print(f"rejected a request: {error}", file=sys.stderr, flush=True)
                return self.answer(400)
            with lock:
                new = self.headers["webhook-id"] not in seen
                seen.add(self.headers["webhook-id"])
            if new:
                print(event_line(event), flush=True)
            self.answer(204)  # a duplicate is answered 204 too, so it is not sent again

        def answer(self, status: int):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # keep stdout to one line per event
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    print(f"listening on http://{host}:{server.server_address[1]}/", file=sys.stderr,
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# --- command line ----------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="A partner client for the Coalition API.")
    parser.add_argument("--url", default=env("COALITION_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--client-id", default=env("COALITION_CLIENT_ID", "demo-camba"))
    parser.add_argument("--client-secret", default=env("COALITION_CLIENT_SECRET"),
                        help="default: $COALITION_CLIENT_SECRET; for the demo's clients "
                             "(demo-...), <client-id>-secret")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="print the referrals changed since last time")
    sync.add_argument("--state", default="coalition-sync.json",
                      help="where the sync position is kept (default: %(default)s)")
    accept = commands.add_parser("accept", help="accept a referral sent to you")
    accept.add_argument("referral_id")
    hooks = commands.add_parser("listen", help="receive and verify webhooks")
    hooks.add_argument("--port", type=int, default=8765)
    hooks.add_argument("--host", default="127.0.0.1")
    hooks.add_argument("--secret", default=env("COALITION_WEBHOOK_SECRET"),
                       help="the webhook's signing secret (whsec_...), or "
                            "$COALITION_WEBHOOK_SECRET")
    args = parser.parse_args(argv)

    if args.command == "listen":
        try:
            Webhook(args.secret or "")  # a bad secret fails now, not at the first delivery
        except (EmptyWebhookSecretError, ValueError):
            parser.error("listen needs the webhook's secret (whsec_...): --secret or "
                         "COALITION_WEBHOOK_SECRET")
        listen(args.port, args.secret, args.host)
        return 0

    secret = args.client_secret
    if not secret and args.client_id.startswith("demo-"):
        secret = f"{args.client_id}-secret"  # the demo data's convention, nobody else's
    if not secret:
        parser.error("give --client-secret or COALITION_CLIENT_SECRET")
    client = CoalitionClient(args.url, args.client_id, secret)
    try:
        if args.command == "sync":
            ours, count = client.organization(), 0
            for referral in client.sync(args.state):
                count += 1
                new = referral["receiving_org"] == ours and referral["status"] == "requested"
                print(f"{'NEW' if new else '   '} {referral['id']} {referral['status']:<11} "
                      f"v{referral['version']} {referral['sending_org']} -> "
                      f"{referral['receiving_org']} {referral['service_type']}", flush=True)
            print(f"{count} changed; position saved in {args.state}", file=sys.stderr)
        elif args.command == "accept":
            referral = client.accept(args.referral_id)
            print(f"{referral['id']} {referral['status']} v{referral['version']}")
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except requests.RequestException as error:
        print(f"error: cannot reach {args.url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
