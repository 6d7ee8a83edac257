"""Referral events gained reason_code (referrals 0015). PostgreSQL's append-only
trigger compares the whole row, so it guards the new column already; SQLite's names
its columns, and now names this one too: erasure still changes the reason alone."""

import importlib

from django.db import migrations

previous = importlib.import_module("audit.migrations.0003_event_trigger_guards_every_column")

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS referral_event_append_only;",
    """CREATE TRIGGER referral_event_append_only BEFORE UPDATE ON referrals_referralevent
       WHEN NOT (NEW.reason = '[erased]' AND NEW.id IS OLD.id
                 AND NEW.referral_id IS OLD.referral_id AND NEW.kind IS OLD.kind
                 AND NEW.organization_id IS OLD.organization_id
                 AND NEW.actor_user_id IS OLD.actor_user_id
                 AND NEW.actor_application_id IS OLD.actor_application_id
                 AND NEW.at IS OLD.at AND NEW.from_status IS OLD.from_status
                 AND NEW.to_status IS OLD.to_status AND NEW.version IS OLD.version
                 AND NEW.reason_code IS OLD.reason_code)
       BEGIN SELECT RAISE(ABORT, 'referral events are append-only'); END;""",
]


def _sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_admin_channel"),
        ("referrals", "0015_reason_codes"),
    ]

    operations = [migrations.RunPython(_sqlite(SQLITE_FORWARD),
                                       _sqlite(previous.SQLITE_FORWARD))]
