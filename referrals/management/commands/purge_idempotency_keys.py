from django.core.management.base import BaseCommand

from referrals.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than their 24-hour lifetime (run daily)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {purge_expired()} expired idempotency key(s).")
