"""Schemathesis hooks for the live GraphQL fuzz (loaded through SCHEMATHESIS_HOOKS).

Schemathesis's own GraphQL check fails on any error in a response, but a
domain error (not_found, validation_error, ...) is a correct answer to a
generated request; only what the server did not mean is a failure.
"""

import schemathesis


@schemathesis.check
def graphql_no_internal_error(ctx, response, case):
    """No 5xx, a JSON answer, and every GraphQL error carries a client code."""
    if response.status_code >= 500:
        raise AssertionError(f"Server error: {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError("The response is not JSON") from None
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        if code in (None, "internal_error"):
            raise AssertionError(f"An error the server did not mean: {error}")
