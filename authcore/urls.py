"""URL routes: the admin site (the inspection tool for the migration), the API and its schema."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

urlpatterns = [
    path("admin/", admin.site.urls),
    # Public like the API docs it describes; no credentials so a bad header cannot hide it.
    path(
        "api/schema",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="api-schema",
    ),
    path("api/", include("accounts.api.urls")),
]
