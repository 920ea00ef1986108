"""The admin of the legacy app, split by role.

- ``base``: the view-only admin, the columns the database really has, links.
- ``accounting``: what the copy made of each legacy row, by the engine's rules
  (``engine_sql`` runs the engine's SQL inside a request).
- ``legacy_table`` and ``tables``: one read-only page per legacy table.
- ``records``: the copy's runs (each report rendered), row issues and conflicts.
- ``overview``: per legacy table, what the copy made of its rows.
- ``review_queue``: what a person must decide after the copy.

Importing the package registers every page (Django's autodiscover imports it).
"""

from __future__ import annotations

from django.contrib import admin

from legacy.admin import records, review_queue, tables  # noqa: F401  (register the pages)
from legacy.admin.base import ReadOnlyAdmin, change_url, legacy_row_link, legacy_row_url

__all__ = ["ReadOnlyAdmin", "change_url", "legacy_row_link", "legacy_row_url"]

# The admin index links to the legacy overview (a documented AdminSite attribute; left
# alone if a deployment has chosen its own index template).
if admin.site.index_template is None:
    admin.site.index_template = "admin/legacy/site_index.html"
