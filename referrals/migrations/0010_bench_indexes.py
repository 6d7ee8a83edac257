"""Indexes for referral lists at coalition scale (docs/benchmarks.md).

At a million referrals, every list ordered by -created_at (the API's default)
sorted all of the caller's visible rows after joining them: 0.2 to 2.4 s of SQL
per page. The visibility filter is an OR (sending_org = X OR receiving_org = X), so
the per-organisation (org, -created_at) indexes cannot deliver rows in order;
one index in the list order can, and the LIMIT stops the scan after the page:

- referral_created_id_idx: (created_at DESC, id DESC), the default order.
- referral_open_created_idx: the same, for open referrals only (the work queues:
  open caseload, urgent intake, overdue); a tenth of the rows.

The incremental-sync order (updated_at, id) already has its index. Both are built
CONCURRENTLY on PostgreSQL (no write lock on a live table), and they live in the
database only: the model state is unchanged, so makemigrations stays clean. Moving
them into Referral.Meta.indexes later needs a SeparateDatabaseAndState.
"""

from django.db import migrations

OPEN = "('requested', 'accepted', 'in-progress', 'on-hold')"
INDEXES = {
    "referral_created_id_idx":
        "ON referrals_referral (created_at DESC, id DESC)",
    "referral_open_created_idx":
        f"ON referrals_referral (created_at DESC, id DESC) WHERE status IN {OPEN}",
}


def create(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {name} {definition}")


def drop(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("referrals", "0004_client_erased_at"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
