from functools import reduce
from operator import or_

from django.apps import apps
from django.db.models import Q
from django.core.management.base import BaseCommand

from core.fields import FieldKeysMixin


def encrypted_fields() -> list[tuple[type, list[str]]]:
    """Every model with encrypted fields, and those fields' names."""
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, FieldKeysMixin)]
        if names:
            found.append((model, names))
    return found


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted field (A-Numbers, dates of birth, webhook signing "
            "secrets, ...) with the first key of FIELD_ENCRYPTION_KEYS. Put the new key "
            "first, keep the old ones after it, run this, then drop the old keys.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        size = options["batch_size"]
        for model, names in encrypted_fields():
            label = model._meta.verbose_name_plural
            holding_a_value = reduce(or_, (Q(**{f"{name}__isnull": False}) for name in names))
            queryset = (model._default_manager.filter(holding_a_value)
                        .order_by("pk").only("pk", *names))
            total = queryset.count()
            done = 0
            batch = []
            for obj in queryset.iterator(chunk_size=size):
                batch.append(obj)
                if len(batch) >= size:
                    model._default_manager.bulk_update(batch, names)
                    done += len(batch)
                    batch = []
                    self.stdout.write(f"  {done}/{total} {label} re-encrypted")
            if batch:
                model._default_manager.bulk_update(batch, names)
                done += len(batch)
            self.stdout.write(self.style.SUCCESS(
                f"Re-encrypted {done} "
                f"{label if done != 1 else model._meta.verbose_name} ({', '.join(names)}) with the current key."))
