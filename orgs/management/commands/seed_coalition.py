from django.core.management.base import BaseCommand

from orgs.services import coalition_seed


class Command(BaseCommand):
    help = "Load the Immigrant Defense Coalition directory. Safe to run again: it changes nothing."

    def handle(self, *args, **options):
        changed = coalition_seed()
        summary = ", ".join(f"{count} {what}" for what, count in changed.items())
        if any(changed.values()):
            self.stdout.write(self.style.SUCCESS(f"Coalition loaded: created or updated {summary}."))
        else:
            self.stdout.write("Coalition already up to date: nothing changed.")
