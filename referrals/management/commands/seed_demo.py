from django.core.management.base import BaseCommand, CommandError

from orgs.demo import DEMO_PASSWORD, demo_accounts_seed
from referrals.demo import demo_referrals_seed


class Command(BaseCommand):
    help = ("Load demo OAuth clients, users and illustrative referrals with known secrets "
            "(DEBUG only). Idempotent.")

    def handle(self, *args, **options):
        try:
            created = demo_accounts_seed()
            referrals = demo_referrals_seed()
        except RuntimeError as exc:
            raise CommandError(f"{exc} Run it with DEBUG=true (the default outside "
                               "DJANGO_ENV=production).") from None
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo accounts created: {', '.join(created)}."))
        else:
            self.stdout.write("Demo accounts already present.")
        if referrals:
            self.stdout.write(self.style.SUCCESS(f"Demo referrals created: {referrals}."))
        else:
            self.stdout.write("Demo referrals already present.")
        self.stdout.write(f"Demo users' password: {DEMO_PASSWORD}; "
                          "client secrets: <client_id>-secret.")
