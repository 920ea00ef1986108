"""The admin's review queue with many held items: server time of its pages.

    .venv/bin/python bench/review_queue.py --held 100000

Makes a scratch database (``authcore_review_bench`` on BENCH_SERVER_URL's server), runs
the migrations, writes ``--held`` users each with a held API key and a conflict for every
second one, then times the queue's pages for a superuser through Django's test client
(the whole request in this process: its wall time is server time). Prints the median of
five requests per page and the slowest statement; drops the database at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
PAGES = (
    "/admin/legacy/reviewitem/",
    "/admin/legacy/reviewitem/?kind=held",
    "/admin/legacy/reviewitem/?decision=undecided&source=user_api_keys",
    "/admin/legacy/reviewitem/?q=p5000",
)
DBNAME = "authcore_review_bench"


def fill(cursor: psycopg.Cursor, held: int) -> None:
    cursor.execute(
        "INSERT INTO accounts_user (email, password, is_active, is_staff, is_superuser,"
        " is_verified, date_joined) SELECT 'p' || g || '@example.com', '!', true, false, false,"
        " false, now() FROM generate_series(1, %s) g",
        [held],
    )
    cursor.execute(
        "INSERT INTO legacy_hold (user_id, kind, source, legacy_id, owner_source,"
        " owner_legacy_id, reason, detail, held_at, decision) SELECT u.id, 'api_key',"
        " 'user_api_keys', u.id::text, 'users', u.id::text, 'unproven_merged_row',"
        " 'of users#' || u.id || ', a merged row whose address was never proven',"
        " now() - make_interval(secs => u.id), '' FROM accounts_user u"
    )
    cursor.execute(
        "INSERT INTO legacy_conflict (user_id, field, source, legacy_id, kept_value,"
        " other_value, rule, detected_at, decision) SELECT u.id, 'role', 'users',"
        " (u.id + 10000000)::text, 'member', 'admin', 'rights come only from the winning row',"
        " now(), '' FROM accounts_user u WHERE u.id % 2 = 0"
    )
    cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held", type=int, default=100_000)
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    with psycopg.connect(args.server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DBNAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DBNAME}")
    url = args.server.rsplit("/", 1)[0] + f"/{DBNAME}"
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY="bench-" * 10,
        ALLOWED_HOSTS="testserver",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "authcore.settings"
    sys.path.insert(0, str(REPO))
    try:
        run(args.held)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(args.server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DBNAME} WITH (FORCE)")


def run(held: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        fill(cursor.cursor, held)
    admin = User.objects.create_superuser("bench-admin@bench.invalid", None)
    client = Client()
    client.force_login(admin)
    print(f"review queue, {held:,} held items and {held // 2:,} conflicts")
    for path in PAGES:
        client.get(path)  # warm-up: imports, templates, plan caches
        times = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{path}: HTTP {response.status_code} {response.get('Location', '')}")
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
        print(
            f"  {path:<70} {response.status_code} {statistics.median(times):6.0f} ms"
            f" (goal < 300), {len(captured.captured_queries)} queries,"
            f" slowest {float(slowest['time']) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
