from django.core.management.base import BaseCommand, CommandError

from orgs.demo import DEMO_PASSWORD, demo_accounts_seed
from referrals.demo import demo_referrals_seed
from reporting.demo import demo_grants_seed, demo_history_seed


class Command(BaseCommand):
    help = ("Load demo OAuth clients and users (known secrets), illustrative referrals in "
            "every status, grants and two fiscal years of history. DEBUG only; idempotent.")

    def handle(self, *args, **options):
        try:
            self.stdout.write("Demo accounts...")
            created = demo_accounts_seed()
            self.stdout.write(f"  {len(created)} created." if created else "  already present.")
            self.stdout.write("Demo referrals in every status...")
            made = demo_referrals_seed()
            self.stdout.write(f"  {made} created." if made else "  already present.")
            self.stdout.write("Grants...")
            made = demo_grants_seed()
            self.stdout.write(f"  {made} created." if made else "  already present.")
            self.stdout.write("Referral history for SFY 2016-17 and 2017-18...")
            made = demo_history_seed()
            self.stdout.write(f"  {made} created." if made else "  already present.")
        except RuntimeError as exc:
            raise CommandError(f"{exc} Run it with DEBUG=true (the default outside "
                               "DJANGO_ENV=production).") from None
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready. Users' password: {DEMO_PASSWORD}; client secrets: "
            "<client_id>-secret."))
