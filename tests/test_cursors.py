"""A cursor is base64 a client can edit; a doctored one is a 404 problem (or, where
the database can compare the value, an empty page), never a 500."""

import base64

import pytest

from tests.referrals.conftest import ADMIN_SCOPES

DOCTORED = [base64.b64encode(raw).decode() for raw in (
    b"p=not-a-date", b"p=9999-12-31T23:59:59-05:00", b"o=1&p=2025-13-45",
    b"r=1&p=\x00", b"o=-5",
)]


@pytest.mark.parametrize("cursor", DOCTORED)
@pytest.mark.parametrize("path", ["/api/v1/referrals/", "/api/v1/audit-records/",
                                  "/api/v1/referrals/?ordering=needed_by"])
def test_a_doctored_cursor_is_a_404_problem(api, make_app, make_token, path, cursor):
    from tests.conftest import APIClient

    app = make_app("idc", scopes=ADMIN_SCOPES)
    client = APIClient(make_token(app, scopes=ADMIN_SCOPES))
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}cursor={cursor}")
    assert response.status_code in (200, 404), response.content
    if response.status_code == 200:  # e.g. PostgreSQL reaches year 9999 where SQLite can't
        assert response.json()["results"] == []
    else:
        assert response["Content-Type"] == "application/problem+json"
