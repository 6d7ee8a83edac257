from django.core.management.base import BaseCommand, CommandError

from orgs.demo import DEMO_PASSWORD, demo_accounts_seed


class Command(BaseCommand):
    help = "Load demo OAuth clients and users with known secrets (DEBUG only). Idempotent."

    def handle(self, *args, **options):
        try:
            created = demo_accounts_seed()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo accounts created: {', '.join(created)}."))
        else:
            self.stdout.write("Demo accounts already present.")
        self.stdout.write(f"Demo users' password: {DEMO_PASSWORD}; client secrets: <client_id>-secret.")
