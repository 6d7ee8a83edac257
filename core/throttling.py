"""Rate limits per OAuth application (not per IP: partner systems sit behind
shared egress addresses, and one misbehaving client must not starve others)."""

from rest_framework.throttling import SimpleRateThrottle

from core.principal import Principal


class ApplicationRateThrottle(SimpleRateThrottle):
    scope = "application"

    def get_cache_key(self, request, view):
        principal = request.auth
        if not isinstance(principal, Principal) or principal.application is None:
            return None
        return self.cache_format % {"scope": self.scope,
                                    "ident": principal.application.client_id}


def check_application_rate(request) -> float | None:
    """For views outside DRF (GraphQL): seconds to wait, or None when allowed."""
    throttle = ApplicationRateThrottle()
    if throttle.allow_request(_PrincipalRequest(request), None):
        return None
    return throttle.wait() or 1.0


class _PrincipalRequest:
    """The bit of a DRF request the throttle reads."""

    def __init__(self, request):
        self.auth = getattr(request, "principal", None)
        self.META = request.META
