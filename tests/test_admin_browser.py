"""The admin as a person uses it: headless Chromium against a live server.

Debian's ``chromium`` package, driven by Playwright for Python through
``executable_path``; Playwright's own browser download (``playwright install``) is never
used. Skipped, saying what is missing, where either is not installed. Screenshots go to
``artifacts/screenshots/admin/<database>/`` (or ``$ADMIN_SCREENSHOTS_DIR``); the test prints
the folder.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.urls import reverse

from accounts.models import User
from legacy.engine import copy_legacy
from tests.conftest import bcrypt_hash, sha256_hex

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "a-long-Admin-passw0rd"
TOKEN = "tuGlKvrYEoiJcv7r7oIy7zXM9pqVnaxN_74obFz6lVo"


def missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not Path(CHROMIUM).is_file():
        return (
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium) "
            "or set CHROMIUM_PATH"
        )
    if importlib.util.find_spec("playwright") is None:
        return (
            "Playwright for Python is not installed (pip install playwright; no browser download)"
        )
    return None


pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


def screenshot_folder() -> Path:
    """One folder per database, emptied of the last run's screenshots (gitignored)."""
    default = Path(settings.BASE_DIR) / "artifacts" / "screenshots" / "admin"
    folder = Path(os.environ.get("ADMIN_SCREENSHOTS_DIR", default)) / connection.vendor
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def test_inspecting_a_migration_in_the_browser(live_server, legacy_committed, capsys):
    """Log in, find a migrated user by another letter case, see her origins and masked key,
    open the legacy row (no edit, no delete), the overview, the lists and a copy run."""
    # Everything that touches the database happens before the browser starts: Playwright's
    # synchronous API runs an event loop, inside which Django refuses ORM calls.
    legacy = legacy_committed
    ann = legacy.user("Ann@Example.com", "ann-pw", full_name="Ann")
    legacy.api_key(ann, TOKEN, name="ci")
    legacy.insert(
        "user", email=" ann@example.com", hashed_password=bcrypt_hash("other"), first_name="Annie"
    )
    legacy.user("bob@example.com", "bob-pw")
    legacy.user("not-an-email")
    copy_legacy(apps)
    User.objects.create_superuser(ADMIN_EMAIL, ADMIN_PASSWORD)
    digest = sha256_hex(TOKEN)
    legacy_row = reverse("admin:legacy_authuser_change", args=[ann])
    users = reverse("admin:accounts_user_changelist")
    overview = reverse("admin:legacy_overview")
    folder = screenshot_folder()
    with capsys.disabled():
        print(f"\nadmin browser screenshots: {folder}")

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(15_000)

            def shot(name: str) -> None:
                page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

            def check(text: str) -> None:
                assert text in page.content(), text

            # Log in.
            page.goto(f"{live_server.url}/admin/")
            page.fill("#id_username", ADMIN_EMAIL)
            page.fill("#id_password", ADMIN_PASSWORD)
            shot("01-login")
            page.click("input[type=submit]")
            page.wait_for_selector("#legacy-migration")
            shot("02-index")

            # Search a migrated user by another letter case; open her.
            page.goto(f"{live_server.url}{users}")
            page.fill("#searchbar", "ANN@EXAMPLE.COM")
            page.press("#searchbar", "Enter")
            page.wait_for_load_state()
            rows = page.locator("#result_list tbody tr")
            assert rows.count() == 1
            assert "Ann@Example.com" in rows.first.inner_text()
            shot("03-user-search")
            rows.first.locator("th a").click()
            page.wait_for_selector("#origins-group")

            # Her origins, each linking to the legacy row; her API key, masked.
            check("created this user (won)")
            check("merged into it")
            assert page.locator(f'#origins-group a[href="{legacy_row}"]').count() == 1
            check(f"{digest[:8]}…")
            assert digest not in page.content()
            shot("04-user-page")

            # The legacy row: what it became, and no way to edit or delete it.
            page.locator(f'#origins-group a[href="{legacy_row}"]').click()
            page.wait_for_selector(".legacy-copy-outcome")
            check("What the copy made of this row")
            assert "Copied" in page.locator(".legacy-copy-outcome").inner_text()
            assert page.locator('input[name="_save"], input[name="_continue"]').count() == 0
            assert page.locator("a.deletelink").count() == 0
            assert page.locator("form#authuser_form input:not([type=hidden])").count() == 0
            shot("05-legacy-row")

            # The legacy overview, from the admin index.
            page.goto(f"{live_server.url}/admin/")
            page.locator("#legacy-migration a", has_text="Legacy overview").click()
            page.wait_for_selector("#legacy-overview")
            users_row = page.locator("#overview-users td")
            numbers = [users_row.nth(i).inner_text().strip() for i in range(users_row.count())]
            # rows, copied, merged, rejected, warning, unaccounted
            assert numbers[:6] == ["3", "2", "0", "1", "0", "0"], numbers
            shared_row = page.locator("#overview-user td")
            assert shared_row.nth(2).inner_text().strip() == "1"  # merged
            shot("06-overview")

            # Rejected rows and conflicts have their own lists, linked from the index.
            page.goto(f"{live_server.url}/admin/")
            page.locator("#legacy-migration a", has_text="Rejected rows").click()
            page.wait_for_selector("#result_list")
            check("email_invalid")
            shot("07-rejected-rows")
            page.goto(f"{live_server.url}/admin/")
            page.locator("#legacy-migration a", has_text="Conflicts").click()
            page.wait_for_selector("#result_list")
            check("full_name")
            shot("08-conflicts")

            # The copy run's page, from the runs list.
            page.goto(f"{live_server.url}{overview}")
            page.locator("a", has_text="All copy runs").click()
            page.locator("#result_list tbody tr th a").first.click()
            page.wait_for_selector("#copy-run-per-table")
            shot("09-copy-run")
        finally:
            browser.close()
