from django.core.management.base import BaseCommand

from referrals.models import Client
from webhooks.models import WebhookSubscription


class Command(BaseCommand):
    help = ("Re-encrypt every A-Number, date of birth and webhook signing secret with the "
            "first key of "
            "FIELD_ENCRYPTION_KEYS. Put the new key first, keep the old ones after it, run "
            "this, then drop the old keys.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        queryset = Client.objects.exclude(a_number=None, date_of_birth=None).order_by("pk")
        total = queryset.count()
        done = 0
        batch = []
        for client in queryset.only("pk", "a_number", "date_of_birth").iterator(
                chunk_size=options["batch_size"]):
            batch.append(client)
            if len(batch) >= options["batch_size"]:
                Client.objects.bulk_update(batch, ["a_number", "date_of_birth"])
                done += len(batch)
                batch = []
                self.stdout.write(f"  {done}/{total} clients re-encrypted")
        if batch:
            Client.objects.bulk_update(batch, ["a_number", "date_of_birth"])
            done += len(batch)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {done} client(s) with the current key."))
        # Webhook secrets: few rows; each save encrypts with the current key.
        webhooks = list(WebhookSubscription.objects.only("pk", "secret", "previous_secret"))
        WebhookSubscription.objects.bulk_update(webhooks, ["secret", "previous_secret"])
        self.stdout.write(self.style.SUCCESS(
            f"Re-encrypted {len(webhooks)} webhook secret(s) with the current key."))
