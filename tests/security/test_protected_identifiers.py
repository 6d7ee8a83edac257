"""A-Numbers and dates of birth: ciphertext at rest under FIELD_ENCRYPTION_KEYS (not
derived from SECRET_KEY), readable through the API, rotatable with
``manage.py rotate_field_keys``, and never written to the logs or the audit trail."""

from __future__ import annotations

import logging
import uuid
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import connection

from audit.models import AuditRecord
from referrals.models import Client

from .conftest import A_NUMBER, DATE_OF_BIRTH, FAMILY_NAME, GIVEN_NAME, RECEIVER

CLIENTS = "/api/v1/clients/"
REFERRALS = "/api/v1/referrals/"
PROTECTED = ("a_number", "date_of_birth")


def forget_keys() -> None:
    """The fields cache their keys (cached_property); drop them so that the next
    read or write takes FIELD_ENCRYPTION_KEYS afresh."""
    from webhooks.models import WebhookSubscription

    fields = [Client._meta.get_field(name) for name in PROTECTED] + [
        WebhookSubscription._meta.get_field(name) for name in ("secret", "previous_secret")]
    for field in fields:
        field.__dict__.pop("keys", None)
        field.__dict__.pop("f", None)


@pytest.fixture
def keys(settings):
    """Set the field keys (or SECRET_KEY) for the rest of a test:
    keys(new, old) / keys(secret_key=...)."""
    original = list(settings.FIELD_ENCRYPTION_KEYS)

    def use(*field_keys: bytes | str, secret_key: str | None = None) -> None:
        if field_keys:
            settings.FIELD_ENCRYPTION_KEYS = [k.decode() if isinstance(k, bytes) else k
                                              for k in field_keys]
        if secret_key is not None:
            settings.SECRET_KEY = secret_key
        forget_keys()

    use.original = original
    yield use
    forget_keys()  # the settings fixture restores the keys; the fields must re-read them


def raw_identifiers(client_id) -> tuple[str | None, str | None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT a_number, date_of_birth FROM referrals_client WHERE id = %s",
                       [client_id.hex if connection.vendor == "sqlite" else client_id])
        return cursor.fetchone()


def readable(client_id) -> tuple[str | None, str | None] | None:
    """(A-Number, date of birth) as the application reads them, or None when it cannot."""
    try:
        client = Client.objects.get(pk=client_id)
    except ValidationError:  # a date of birth that does not decrypt is no date
        return None
    dob = client.date_of_birth.isoformat() if client.date_of_birth else None
    return client.a_number, dob


@pytest.fixture
def recorded(office):
    response = office.post(CLIENTS, {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME,
                                     "a_number": A_NUMBER, "date_of_birth": DATE_OF_BIRTH})
    assert response.status_code == 201, response.content
    return uuid.UUID(response.json()["id"])


def test_identifiers_are_ciphertext_in_the_database(recorded, keys):
    a_number, dob = raw_identifiers(recorded)

    for stored, plain in ((a_number, A_NUMBER), (dob, DATE_OF_BIRTH)):
        assert stored and plain not in stored
        assert plain.replace("-", "") not in stored
        # A Fernet token under the configured key (and only that key).
        assert Fernet(keys.original[0]).decrypt(stored.encode()).decode() == plain
        with pytest.raises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(stored.encode())


def test_two_clients_with_the_same_a_number_store_different_ciphertexts(office, recorded):
    again = office.post(CLIENTS, {"given_name": "Ama", "family_name": "Owusu",
                                  "a_number": A_NUMBER}).json()

    assert raw_identifiers(recorded)[0] != raw_identifiers(uuid.UUID(again["id"]))[0]


def test_identifiers_are_readable_through_the_apis(office, recorded):
    rest = office.get(f"{CLIENTS}{recorded}/").json()
    graphql = office.graphql('{ client(id: "%s") { aNumber dateOfBirth } }' % recorded)

    assert (rest["a_number"], rest["date_of_birth"]) == (A_NUMBER, DATE_OF_BIRTH)
    assert graphql.json()["data"]["client"] == {"aNumber": A_NUMBER,
                                                "dateOfBirth": DATE_OF_BIRTH}


def test_the_key_is_not_derived_from_the_secret_key(office, recorded, keys):
    keys(secret_key="a-completely-different-secret-key-" + "x" * 40)

    assert readable(recorded) == (A_NUMBER, DATE_OF_BIRTH)
    shown = office.get(f"{CLIENTS}{recorded}/").json()
    assert (shown["a_number"], shown["date_of_birth"]) == (A_NUMBER, DATE_OF_BIRTH)


def test_a_new_key_alone_cannot_read_old_values(recorded, keys):
    keys(Fernet.generate_key())

    # Loudly: a missing key is a deployment error, never ciphertext passed off as data.
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        readable(recorded)


def test_the_old_key_kept_second_still_reads_them(recorded, keys):
    keys(Fernet.generate_key(), keys.original[0])

    assert readable(recorded) == (A_NUMBER, DATE_OF_BIRTH)


def test_rotation_re_encrypts_under_the_new_key(office, recorded, keys):
    without_dob = uuid.UUID(office.post(CLIENTS, {"given_name": "Ama", "family_name": "Owusu",
                                                  "a_number": "87654321"}).json()["id"])
    nothing = uuid.UUID(office.post(CLIENTS, {"given_name": "Kofi",
                                              "family_name": "Mensah"}).json()["id"])
    old_key, new_key = keys.original[0], Fernet.generate_key()
    before = raw_identifiers(recorded)
    keys(new_key, old_key)
    out = StringIO()

    call_command("rotate_field_keys", "--batch-size", "2", stdout=out)

    assert "Re-encrypted 2 clients" in out.getvalue()
    after = raw_identifiers(recorded)
    assert after != before
    for stored in after:
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(stored.encode())
    assert raw_identifiers(nothing) == (None, None)
    keys(new_key)  # the old key dropped
    assert readable(recorded) == (A_NUMBER, DATE_OF_BIRTH)
    assert readable(without_dob) == ("87654321", None)
    assert readable(nothing) == (None, None)


def test_records_written_after_rotation_use_the_new_key(office, keys):
    new_key = Fernet.generate_key()
    keys(new_key, keys.original[0])

    made = office.post(CLIENTS, {"given_name": "Ama", "family_name": "Owusu",
                                 "a_number": A_NUMBER}).json()

    stored = raw_identifiers(uuid.UUID(made["id"]))[0]
    assert Fernet(new_key).decrypt(stored.encode()).decode() == A_NUMBER


# --- never in the logs or the trail -------------------------------------------------


def test_identifiers_never_reach_the_logs(office, camba, caplog, settings):
    settings.DEBUG = True  # the database backend logs every query (with parameters)
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.db.backends", "django.request"):
        caplog.set_level(logging.DEBUG, logger=name)
    body = {"client": {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME,
                       "a_number": A_NUMBER, "date_of_birth": DATE_OF_BIRTH},
            "consent": {"method": "verbal"}, "receiving_org": RECEIVER,
            "service_type": "asylum", "intake_channel": "district-office"}

    created = office.post(REFERRALS, body, headers={"Idempotency-Key": str(uuid.uuid4())})
    client_id = created.json()["client"]["id"]
    camba.get(f"{CLIENTS}{client_id}/")
    office.get(f"{CLIENTS}{client_id}/")
    invalid_rest = office.post(CLIENTS, {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME,
                                         "a_number": "2047183950", "date_of_birth": "1983-19-07"})
    invalid_graphql = office.graphql("""mutation { createClient(input: {givenName: "Zenaida",
        familyName: "Quispewari", aNumber: "20471839A", dateOfBirth: "1983-07-19"})
        { client { id } } }""")

    assert created.status_code == 201 and invalid_rest.status_code == 400
    assert "errors" in invalid_graphql.json()
    assert any(r.name == "django.db.backends" for r in caplog.records)  # queries were logged
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}"
                       for r in caplog.records)
    for value in (A_NUMBER, "2047183950", "20471839A", DATE_OF_BIRTH, "1983-19-07"):
        assert value not in logged


def test_an_invalid_a_number_is_not_echoed_back(office):
    response = office.post(CLIENTS, {"given_name": "Ama", "family_name": "Owusu",
                                     "a_number": "2047183950"})

    assert response.status_code == 400
    assert "2047183950" not in response.content.decode()


def test_identifiers_never_reach_the_audit_trail(office, camba, recorded):
    camba.get(f"{CLIENTS}{recorded}/")
    office.get(f"{CLIENTS}{recorded}/")
    office.graphql('{ client(id: "%s") { aNumber dateOfBirth } }' % recorded)

    rows = list(AuditRecord.objects.values_list())
    assert len(rows) >= 3
    dump = repr(rows)
    for value in (A_NUMBER, DATE_OF_BIRTH, "1983, 7, 19"):
        assert value not in dump


def test_rotation_re_encrypts_webhook_secrets(office, keys, settings):
    from webhooks import services as webhook_services
    from webhooks.models import WebhookSubscription

    from tests.referrals.factories import principal_for

    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = True
    _, secret = webhook_services.subscription_create(
        principal=principal_for(office.org, "webhooks:manage"),
        data=webhook_services.SubscriptionInput(url="http://127.0.0.1:9/hook",
                                                events=["referral.created"]))
    old_key, new_key = keys.original[0], Fernet.generate_key()
    keys(new_key, old_key)
    out = StringIO()
    call_command("rotate_field_keys", stdout=out)
    assert "Re-encrypted 1 webhook subscription " in out.getvalue()
    keys(new_key)  # the old key dropped: the secret still reads, and is ciphertext
    assert WebhookSubscription.objects.get().secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhooksubscription")
        stored = cursor.fetchone()[0]
    assert secret not in stored
    Fernet(new_key).decrypt(stored.encode())
