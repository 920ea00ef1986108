"""URL routes: the admin site (the inspection tool for the migration), the API, its schema
and docs, and the fastapi-users routes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

urlpatterns = [
    path("admin/", admin.site.urls),
    # Public like the API docs it describes; no credentials so a bad header cannot hide it.
    path(
        "api/schema",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="api-schema",
    ),
    # Swagger UI and ReDoc, from the sidecar package's files (no CDN).
    path(
        "api/docs",
        SpectacularSwaggerView.as_view(
            url_name="api-schema", authentication_classes=[], permission_classes=[AllowAny]
        ),
        name="api-docs",
    ),
    path(
        "api/redoc",
        SpectacularRedocView.as_view(
            url_name="api-schema",
            template_name="accounts/redoc.html",
            authentication_classes=[],
            permission_classes=[AllowAny],
        ),
        name="api-redoc",
    ),
    path("api/", include("accounts.api.urls")),
    # fastapi-users' routes, where the old service had them.
    path("fu_auth/", include("accounts.api.fastapi_users_urls")),
]

# Under /api/ and /fu_auth/, a URL no route matches is answered in JSON too.
handler404 = "accounts.api.errors.not_found"
handler500 = "accounts.api.errors.server_error"
