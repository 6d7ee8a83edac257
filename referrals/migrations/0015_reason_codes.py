"""Coded reasons: Referral.status_reason_code and ReferralEvent.reason_code.

Added with ALTER TABLE ... ADD COLUMN on both databases: Django's own AddField
rebuilds an SQLite table for a NOT NULL column with a default, which would drop
the triggers on these tables (the sync feed's change_seq, 0012; the append-only
referral events, audit 0002/0003)."""

from django.db import migrations, models

CHOICES = [
    ("no-capacity", "No capacity"), ("outside-service-area", "Outside the service area"),
    ("conflict-of-interest", "Conflict of interest"), ("not-eligible", "Not eligible"),
    ("client-unreachable", "Client unreachable"), ("client-withdrew", "Client withdrew"),
    ("duplicate", "Duplicate referral"), ("resolved-elsewhere", "Resolved elsewhere"),
    ("waiting-for-documents", "Waiting for documents"),
    ("waiting-for-client", "Waiting for the client"),
    ("waiting-for-decision", "Waiting for a hearing or decision"),
    ("wrong-client", "Wrong client"), ("data-entry-error", "Data entry error"),
    ("other", "Other (say why in the reason)"),
]


def add_column(table: str, column: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"ALTER TABLE {table} ADD COLUMN {column} varchar(40) NOT NULL DEFAULT ''",
        f"ALTER TABLE {table} DROP COLUMN {column}")


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0014_referral_owners"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                add_column("referrals_referral", "status_reason_code"),
                add_column("referrals_referralevent", "reason_code"),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="referral", name="status_reason_code",
                    field=models.CharField(blank=True, choices=CHOICES, max_length=40,
                                           help_text="Why it is in its status, as a code.")),
                migrations.AddField(
                    model_name="referralevent", name="reason_code",
                    field=models.CharField(blank=True, choices=CHOICES, max_length=40)),
            ],
        ),
    ]
