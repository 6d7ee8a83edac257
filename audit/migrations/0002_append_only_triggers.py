"""Database triggers that make the audit trail and referral history append-only,
whatever code runs against the database.

PostgreSQL (production) refuses UPDATE and DELETE on both tables, except the one
change erasure makes: a referral event's reason replaced by "[erased]". SQLite
(quick start only) refuses UPDATE; it keeps DELETE so that test databases can be
flushed."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION coalition_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_auditrecord
    FOR EACH ROW EXECUTE FUNCTION coalition_append_only();

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

CREATE TRIGGER referral_event_append_only BEFORE UPDATE OR DELETE ON referrals_referralevent
    FOR EACH ROW EXECUTE FUNCTION coalition_event_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_record_append_only ON audit_auditrecord;
DROP TRIGGER IF EXISTS referral_event_append_only ON referrals_referralevent;
DROP FUNCTION IF EXISTS coalition_append_only();
DROP FUNCTION IF EXISTS coalition_event_append_only();
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER audit_record_append_only BEFORE UPDATE ON audit_auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;""",
    """CREATE TRIGGER referral_event_append_only BEFORE UPDATE ON referrals_referralevent
       WHEN NOT (NEW.reason = '[erased]' AND NEW.id = OLD.id AND NEW.referral_id = OLD.referral_id
                 AND NEW.kind = OLD.kind AND NEW.at = OLD.at AND NEW.to_status = OLD.to_status
                 AND NEW.version = OLD.version)
       BEGIN SELECT RAISE(ABORT, 'referral events are append-only'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_record_append_only;",
    "DROP TRIGGER IF EXISTS referral_event_append_only;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: the % in RAISE is PL/pgSQL's placeholder, not the driver's.
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
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
        ("audit", "0001_initial"),
        ("referrals", "0002_referral_district_client_primary_language"),
    ]

    operations = [migrations.RunPython(forward, backward)]
