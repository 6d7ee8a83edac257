"""The input limits of the client and referral operations: checked by the services
(and the routing selector), described by the REST serializers and GraphQL inputs."""

from core.rules import Items, Range, Text

GIVEN_NAME = Text("given_name", 100, required=True)
FAMILY_NAME = Text("family_name", 100, required=True)
PHONE = Text("phone", 40)
EMAIL = Text("email", 254)
PREFERRED_LANGUAGES = Items("preferred_languages", 20)
LANGUAGE_CODE = Text("preferred_languages", 3)
SUMMARY = Text("summary", 5000)
REASON = Text("reason", 2000)
OUTCOMES = Items("outcomes", 10)
OUTCOME_NOTE = Text("note", 2000)
NOTE_TEXT = Text("text", 10000, required=True)
DISTRICT = Range("district", 1, 63, code="unknown_district")

ROUTING_LANGUAGE = Text("language", 3)
