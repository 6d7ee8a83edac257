from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from core.errors import CODES, errors_markdown


class Command(BaseCommand):
    help = "Write docs/errors.md from the error-code registry (core.errors.CODES)."

    def handle(self, *args, **options):
        target = Path(settings.BASE_DIR) / "docs" / "errors.md"
        target.write_text(errors_markdown())
        self.stdout.write(f"Wrote {len(CODES)} codes to {target.relative_to(settings.BASE_DIR)}")
