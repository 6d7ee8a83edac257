"""Exit 0 when the PostgreSQL server named by a DATABASE_URL answers, else 1."""

import sys

import dj_database_url
import psycopg

config = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(
        dbname="postgres", user=config["USER"] or "postgres", password=config["PASSWORD"] or None,
        host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432, connect_timeout=3,
    ).close()
except psycopg.Error as exc:
    print(f"PostgreSQL check: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
