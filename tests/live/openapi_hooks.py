"""Schemathesis hooks for the live OpenAPI fuzz (loaded through SCHEMATHESIS_HOOKS).

A request the document allows may still be refused by a rule the document cannot
state (an organisation's slug that does not exist, a referral's version that moved
on, two fields that do not go together). The registry names those codes once,
core.errors.BEYOND_THE_DOCUMENT; a schema-valid request refused with any other code
stays a failure, as does every failure of the other checks.
"""

import schemathesis

from core.errors import BEYOND_THE_DOCUMENT


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    if failure.code != "ST202":  # Schema-valid request rejected
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    return not (isinstance(body, dict) and body.get("code") in BEYOND_THE_DOCUMENT)
