"""Referral.change_seq: the commit-ordered key of the incremental-sync feed
(referrals.selectors.referral_changes, docs/sync.md).

Only the database sets it, so every write path is covered (ORM save, queryset
.update() as in client_erase, bulk_create):

- PostgreSQL: the writing transaction's id (pg_current_xact_id), set BEFORE INSERT OR
  UPDATE. Ids are handed out at a transaction's first write, not at commit; the feed
  makes that safe by reading only below its snapshot's xmin.
- SQLite (quick start): one more than the table's largest change_seq, set AFTER INSERT
  and AFTER UPDATE. SQLite lets one writer at a time hold the database from its first
  write until commit, so that is commit order. The update trigger fires only for
  statements that set some other column: its own UPDATE (change_seq alone) cannot
  re-fire it, while an ORM save() of a stale instance, which writes every column
  including an old change_seq, is still given a new one.

Rows that exist already keep 0 and so come first in a full sync.

On SQLite, adding this NOT NULL column rebuilds referrals_referral, which drops indexes
created outside the model state (0010's); they are created again here. A later
migration that rebuilds the table on SQLite must recreate these triggers likewise
(tests/referrals/test_sync.py fails on SQLite if they are missing).
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION coalition_referral_change_seq() RETURNS trigger AS $$
BEGIN
    NEW.change_seq := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER referral_change_seq BEFORE INSERT OR UPDATE ON referrals_referral
    FOR EACH ROW EXECUTE FUNCTION coalition_referral_change_seq();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS referral_change_seq ON referrals_referral;
DROP FUNCTION IF EXISTS coalition_referral_change_seq();
"""

SQLITE_NEXT = ("UPDATE referrals_referral SET change_seq = "
               "(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM referrals_referral) "
               "WHERE id = NEW.id;")

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS referral_change_seq_insert;",
    "DROP TRIGGER IF EXISTS referral_change_seq_update;",
]

# Dropped on SQLite by the table rebuild (see 0010_bench_indexes).
OPEN = "('requested', 'accepted', 'in-progress', 'on-hold')"
SQLITE_REBUILT_INDEXES = [
    "CREATE INDEX IF NOT EXISTS referral_created_id_idx "
    "ON referrals_referral (created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS referral_open_created_idx "
    f"ON referrals_referral (created_at DESC, id DESC) WHERE status IN {OPEN}",
]


def sqlite_forward(columns: list[str]) -> list[str]:
    return [
        f"""CREATE TRIGGER referral_change_seq_insert AFTER INSERT ON referrals_referral
            BEGIN {SQLITE_NEXT} END;""",
        f"""CREATE TRIGGER referral_change_seq_update
            AFTER UPDATE OF {", ".join(columns)} ON referrals_referral
            BEGIN {SQLITE_NEXT} END;""",
        *SQLITE_REBUILT_INDEXES,
    ]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        referral = apps.get_model("referrals", "Referral")
        columns = [field.column for field in referral._meta.concrete_fields
                   if field.column != "change_seq"]
        for statement in sqlite_forward(columns):
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0011_protect_actors"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="change_seq",
            field=models.BigIntegerField(
                default=0, editable=False,
                help_text="Commit-ordered change key for the sync feed; set by database "
                          "triggers on every insert and update (referrals/migrations/0012)."),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["change_seq", "id"], name="referrals_r_change__6ba20a_idx"),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
