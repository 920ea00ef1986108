"""manage.py demo: the whole job on a demo legacy database, end to end."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from legacy.demo import DEMO_LOGINS, create_legacy_tables, fill_demo_rows


class Command(BaseCommand):
    help = (
        "Build a small demo legacy database (if there is none), run `migrate` (which copies "
        "it), verify the copy, and show that the old passwords log in."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = create_legacy_tables()
        inserted = fill_demo_rows()
        self.stdout.write(
            f"Demo legacy tables: {len(created)} created, {inserted} demo rows inserted."
        )
        self.stdout.write("\n== manage.py migrate (creates authcore's tables, copies legacy rows)")
        call_command("migrate", interactive=False, verbosity=1)
        self.stdout.write("\n== manage.py migrate_legacy_users (a second run copies nothing)")
        call_command("migrate_legacy_users", stdout=self.stdout)
        self.stdout.write("\n== manage.py migrate_legacy_users --verify")
        try:
            call_command("migrate_legacy_users", verify=True, stdout=self.stdout)
        except CommandError as exc:
            raise CommandError(f"demo: {exc}") from exc
        self.stdout.write("\n== old passwords after the move")
        for login in DEMO_LOGINS:
            ok = authenticate(email=login.email, password=login.password) is not None
            self.stdout.write(f"  {login.email:<20} {'logs in' if ok else 'FAILS'}  ({login.note})")
            if not ok:
                raise CommandError(f"demo: {login.email} could not log in with the old password")
        self._show_a_held_item()
        self.stdout.write(
            "\nOpen the admin: `.venv/bin/python manage.py createsuperuser` (any email), then "
            "`.venv/bin/python manage.py runserver` and http://127.0.0.1:8000/admin/"
            "\nThe API docs (Swagger UI) are at http://127.0.0.1:8000/api/docs (ReDoc at "
            "/api/redoc); emails such as sign-up links are printed on runserver's console."
            "\nUnder gunicorn, as in production: `make serve` (http://127.0.0.1:8000/)."
        )

    def _show_a_held_item(self) -> None:
        """One item the copy held back, and why (legacy/engine/trust.py)."""
        from legacy.engine.trust import DECLARE_VERIFIED
        from legacy.models import Hold

        hold = Hold.objects.select_related("user").order_by("id").first()
        if hold is None:
            return
        self.stdout.write("\n== held for review (one of them)")
        self.stdout.write(
            f"  {hold.get_kind_display()} {hold.source}#{hold.legacy_id} of {hold.user.email}"
            f" is held: it came from {hold.owner_source}#{hold.owner_legacy_id}, a second row"
            " of the same address that its service never confirmed, and whoever signed up"
            " with it could be someone else. It grants nothing until released in the"
            " admin's review queue (/admin/legacy/reviewitem/). To trust a source instead,"
            f" {DECLARE_VERIFIED}."
        )
