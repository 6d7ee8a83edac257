"""URL patterns shared by the REST viewsets."""

# A canonical UUID, in either case. Anything else in an id's place is no address of
# ours (404), never a database lookup with a malformed id (which would be a 500).
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# An organisation's slug or a service type's code (Django's slug converter). Keeps
# what PostgreSQL cannot compare (a NUL character) out of lookups.
SLUG_PATTERN = "[-a-zA-Z0-9_]+"
