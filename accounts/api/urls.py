"""Routes under /api/ (no trailing slashes, as the legacy services had them)."""

from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="api-health"),
    path("health/detailed", views.DetailedHealthView.as_view(), name="api-health-detailed"),
    path("me", views.MeView.as_view(), name="api-me"),
    path("keys", views.ApiKeyListCreateView.as_view(), name="api-keys"),
    path("keys/<int:pk>/revoke", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("auth/login", views.LoginView.as_view(), name="api-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="api-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all", views.LogoutEverywhereView.as_view(), name="api-logout-all"),
    path("tenants/<slug:slug>/users", views.TenantUsersView.as_view(), name="api-tenant-users"),
]
