"""POSTing to a subscriber's URL without becoming an SSRF proxy.

The host is resolved once, every address it resolves to must be public (not
loopback, private, link-local, multicast or reserved) unless
WEBHOOK_ALLOW_LOCAL_TARGETS is on (development), and the connection goes to the
address that was checked: a DNS answer that changes between the check and the
connection (rebinding) cannot redirect it. TLS still verifies the certificate
against the URL's host name. Redirects are not followed."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import certifi
import urllib3
from django.conf import settings
from urllib3.util import parse_url

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_URL_LENGTH = 2000


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
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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
        refused = [str(a) for a in addresses if not _address_allowed(a)]
        if refused:
            raise UnsafeTarget("webhook_url_forbidden",
                               f"{host} resolves to a loopback, private or reserved address "
                               f"({refused[0]}); webhooks go to public hosts only.")
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
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
            server_hostname=target.host, assert_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout,
                                          retries=False, maxsize=1)
    try:
        response = pool.urlopen("POST", target.path, body=body,
                                headers={**headers, "Host": host_header},
                                redirect=False, retries=False, preload_content=False)
        try:
            response.read(65536)  # a little of the body, so the peer is not cut off
        finally:
            response.release_conn()
        status = response.status
        return done(status, "" if 200 <= status < 300 else f"HTTP {status}")
    except urllib3.exceptions.HTTPError as exc:
        return done(None, f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        return done(None, f"{type(exc).__name__}: {exc}")
    finally:
        pool.close()
