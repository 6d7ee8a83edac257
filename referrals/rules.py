"""The input limits of the client and referral operations: checked by the services
(and the routing selector), described by the REST serializers and GraphQL inputs."""

from core.rules import Items, Range, Text, Token

GIVEN_NAME = Text("given_name", 100, required=True)
FAMILY_NAME = Text("family_name", 100, required=True)
PHONE = Text("phone", 40)
# An address as Django's EmailValidator takes it, and as the OpenAPI document's pattern
# says (``format: email`` alone allows a one-letter top-level domain, which it refuses):
# a dot-atom local part of at most 64 characters (RFC 5321), labels of ASCII letters, digits and inner hyphens, and a
# top-level label of two to 63 letters.
EMAIL_PATTERN = (r"^(?=[^@]{1,64}@)[-!#$%&'*+/=?^_`{|}~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{|}~0-9A-Za-z]+)*"
                 r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
EMAIL = Text("email", 254, pattern=EMAIL_PATTERN, mismatch="Enter a valid email address.")
PREFERRED_LANGUAGES = Items("preferred_languages", 20)
LANGUAGE_CODE = Text("preferred_languages", 3)
SUMMARY = Text("summary", 5000)
REASON = Text("reason", 2000)
OUTCOMES = Items("outcomes", 10)
OUTCOME_NOTE = Text("note", 2000)
NOTE_TEXT = Text("text", 10000, required=True)
USERNAME = Text("assigned_to", 150, required=True)
DISTRICT = Range("district", 1, 63, code="unknown_district")

ROUTING_LANGUAGE = Text("language", 3)

# The `since` of a sync: the next_since an earlier sync returned.
SYNC_TOKEN = Token("since", 512)
