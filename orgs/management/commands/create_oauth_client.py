import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from orgs.models import Organization
from orgs.services import GRANTS, oauth_client_create


class Command(BaseCommand):
    help = ("Issue an OAuth2 client for one organisation and print it as JSON. The "
            "client_secret is shown this once and stored hashed.")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument("--name", required=True, help="A name for the client application.")
        parser.add_argument("--scopes", required=True,
                            help='Space-separated scopes, e.g. "orgs:read referrals:read".')
        parser.add_argument("--grant", choices=sorted(GRANTS), default="client-credentials")
        parser.add_argument("--redirect-uri", action="append", default=[],
                            help="Exact redirect URI (authorization-code only); repeatable.")
        parser.add_argument("--public", action="store_true",
                            help="A public client (no secret; PKCE only), e.g. a native app.")

    def handle(self, *args, **options):
        try:
            organization = Organization.objects.get(slug=options["org"])
        except Organization.DoesNotExist:
            raise CommandError(
                f"No organisation with slug {options['org']!r}. List them with "
                "GET /api/v1/organizations/ or run `manage.py seed_coalition` first."
            ) from None
        try:
            issued = oauth_client_create(
                organization=organization, name=options["name"],
                scopes=options["scopes"].split(), grant=options["grant"],
                redirect_uris=options["redirect_uri"], public=options["public"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(json.dumps(issued.as_dict(), indent=2))
