"""POSTing to a subscriber's URL without becoming an SSRF proxy.

The host is resolved once, every address it resolves to must be public (not
loopback, private, link-local, multicast or reserved) unless
WEBHOOK_ALLOW_LOCAL_TARGETS is on (development), and the connection goes to the
address that was checked: a DNS answer that changes between the check and the
connection (rebinding) cannot redirect it. TLS still verifies the certificate
against the URL's host name. Redirects are not followed."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass

import certifi
import urllib3
import urllib3.connection
from django.conf import settings
from urllib3.util import parse_url

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
# The whole attempt, however slowly the endpoint drips its answer (well under the
# worker's lease, WEBHOOK_LEASE_SECONDS).
TOTAL_TIMEOUT = 20.0
MAX_URL_LENGTH = 2000

# IPv6 ranges that carry or reach an IPv4 address (NAT64, 6to4, Teredo, IPv4-compatible
# and -translated) or are deprecated, refused outright: through them a "public" IPv6
# address can lead to 169.254.169.254 or 10.0.0.0/8.
TUNNELLED = [ipaddress.ip_network(n) for n in (
    "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::/96",
    "::ffff:0:0:0/96", "fec0::/10")]


class UnsafeTarget(Exception):
    """The URL may not be delivered to; ``code`` says why."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Result:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif any(address in network for network in TUNNELLED):
            return False
    return address.is_global and not address.is_multicast


def check_url(url: str) -> tuple[str, str, int, str]:
    """Syntax rules for a webhook URL; returns (scheme, host, port, path)."""
    local = settings.WEBHOOK_ALLOW_LOCAL_TARGETS
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget("webhook_url_invalid", f"Give an absolute URL of at most "
                                                  f"{MAX_URL_LENGTH} characters.")
    try:
        parts = parse_url(url)
    except ValueError:
        raise UnsafeTarget("webhook_url_invalid", "This is not a valid URL.") from None
    allowed_schemes = {"https", "http"} if local else {"https"}
    if parts.scheme not in allowed_schemes:
        raise UnsafeTarget("webhook_url_invalid",
                           "Webhook URLs must use https." if not local
                           else "Webhook URLs must use http or https.")
    if not parts.host:
        raise UnsafeTarget("webhook_url_invalid", "The URL has no host.")
    if parts.auth:
        raise UnsafeTarget("webhook_url_invalid",
                           "Put no credentials in the URL; verify our signature instead.")
    if parts.fragment:
        raise UnsafeTarget("webhook_url_invalid", "The URL may not have a #fragment.")
    host = parts.host.strip("[]").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, host, port, parts.request_uri


def resolve(url: str) -> Target:
    """Check the URL and resolve its host to one allowed address."""
    scheme, host, port, path = check_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget("webhook_url_unresolvable",
                           f"The host {host!r} does not resolve.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_LOCAL_TARGETS:
        if not all(_address_allowed(a) for a in addresses):
            # Which address is not said: the API is no oracle for internal DNS.
            raise UnsafeTarget("webhook_url_forbidden",
                               f"{host} resolves to an address that is not public; webhooks "
                               "go to public hosts only.")
    return Target(scheme, host, port, path, str(addresses[0]))


def post(url: str, body: bytes, headers: dict[str, str]) -> Result:
    """One POST; never raises for network trouble, it is reported in the Result."""
    started = time.monotonic()

    def done(status_code: int | None, error: str = "") -> Result:
        return Result(status_code, error[:500], int((time.monotonic() - started) * 1000))

    try:
        target = resolve(url)
    except UnsafeTarget as exc:
        return done(None, f"{exc.code}: {exc.detail}")
    default_port = 443 if target.scheme == "https" else 80
    name = f"[{target.host}]" if ":" in target.host else target.host
    host_header = name if target.port == default_port else f"{name}:{target.port}"
    if target.scheme == "https":
        connection = urllib3.connection.HTTPSConnection(
            target.address, target.port, timeout=CONNECT_TIMEOUT, cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(), server_hostname=target.host,
            assert_hostname=target.host)
    else:
        connection = urllib3.connection.HTTPConnection(target.address, target.port,
                                                       timeout=CONNECT_TIMEOUT)
    expired = threading.Event()

    def cut_off():  # an endpoint that answers a byte at a time is cut off here
        expired.set()
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(TOTAL_TIMEOUT, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body,
                           headers={**headers, "Host": host_header})
        connection.sock.settimeout(READ_TIMEOUT)  # connected: now wait for the answer
        response = connection.getresponse()
        response.read(65536)  # a little of the body, so the peer is not cut off
        status = response.status
        return done(status, "" if 200 <= status < 300 else f"HTTP {status}")
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError,
            ValueError) as exc:
        if expired.is_set():
            return done(None, f"TotalTimeout: no complete answer in {TOTAL_TIMEOUT:.0f} s")
        return done(None, f"{type(exc).__name__}: {exc}")
    finally:
        watchdog.cancel()
        connection.close()
