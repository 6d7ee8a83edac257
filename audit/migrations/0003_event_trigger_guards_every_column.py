"""The referral-event trigger let an UPDATE through whenever it set the reason to
"[erased]", comparing only some columns: on PostgreSQL the actor (user, application)
could be rewritten with it, on SQLite also the organisation and the from-status.
Erasure changes the reason and nothing else; now that is all the trigger allows."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION coalition_event_append_only() RETURNS trigger AS $$
DECLARE
    erased referrals_referralevent;
BEGIN
    erased := OLD;
    erased.reason := '[erased]';
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM erased THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'referral events are append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

PG_BACKWARD = """
CREATE OR REPLACE FUNCTION coalition_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.reason = '[erased]'
       AND (NEW.id, NEW.referral_id, NEW.kind, NEW.organization_id, NEW.at, NEW.from_status,
            NEW.to_status, NEW.version)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.referral_id, OLD.kind, OLD.organization_id, OLD.at, OLD.from_status,
            OLD.to_status, OLD.version) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'referral events are append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

# IS, not =: a nullable column compared with = yields NULL, and NOT NULL lets the row by.
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS referral_event_append_only;",
    """CREATE TRIGGER referral_event_append_only BEFORE UPDATE ON referrals_referralevent
       WHEN NOT (NEW.reason = '[erased]' AND NEW.id IS OLD.id
                 AND NEW.referral_id IS OLD.referral_id AND NEW.kind IS OLD.kind
                 AND NEW.organization_id IS OLD.organization_id
                 AND NEW.actor_user_id IS OLD.actor_user_id
                 AND NEW.actor_application_id IS OLD.actor_application_id
                 AND NEW.at IS OLD.at AND NEW.from_status IS OLD.from_status
                 AND NEW.to_status IS OLD.to_status AND NEW.version IS OLD.version)
       BEGIN SELECT RAISE(ABORT, 'referral events are append-only'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS referral_event_append_only;",
    """CREATE TRIGGER referral_event_append_only BEFORE UPDATE ON referrals_referralevent
       WHEN NOT (NEW.reason = '[erased]' AND NEW.id = OLD.id AND NEW.referral_id = OLD.referral_id
                 AND NEW.kind = OLD.kind AND NEW.at = OLD.at AND NEW.to_status = OLD.to_status
                 AND NEW.version = OLD.version)
       BEGIN SELECT RAISE(ABORT, 'referral events are append-only'); END;""",
]


def _run(pg: str, sqlite: list[str]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(pg, params=None)
        elif vendor == "sqlite":
            for statement in sqlite:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(_run(PG_FORWARD, SQLITE_FORWARD),
                                       _run(PG_BACKWARD, SQLITE_BACKWARD))]
