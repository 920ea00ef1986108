"""Routes of the API, under /api/ (authcore/urls.py)."""

from __future__ import annotations

from django.urls import path

from accounts.api import account_views, tenant_views, views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="api-health"),
    path("health/detailed", views.DetailedHealthView.as_view(), name="api-health-detailed"),
    path("me", account_views.MeView.as_view(), name="api-me"),
    path("keys", views.ApiKeyListCreateView.as_view(), name="api-keys"),
    path("keys/<int:pk>/revoke", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("auth/login", views.LoginView.as_view(), name="api-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="api-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all", views.LogoutEverywhereView.as_view(), name="api-logout-all"),
    path("auth/signup", account_views.SignUpView.as_view(), name="api-signup"),
    path(
        "auth/verify/request",
        account_views.VerificationRequestView.as_view(),
        name="api-verify-request",
    ),
    path("auth/verify", account_views.VerifyView.as_view(), name="api-verify"),
    path(
        "auth/password/forgot",
        account_views.ForgotPasswordView.as_view(),
        name="api-password-forgot",
    ),
    path(
        "auth/password/reset", account_views.ResetPasswordView.as_view(), name="api-password-reset"
    ),
    path(
        "auth/password/change",
        account_views.ChangePasswordView.as_view(),
        name="api-password-change",
    ),
    path("tenants", tenant_views.MyTenantsView.as_view(), name="api-tenants"),
    path(
        "tenants/<slug:slug>/users",
        tenant_views.TenantUsersView.as_view(),
        name="api-tenant-users",
    ),
    path(
        "tenants/<slug:slug>/users/<str:email>",
        tenant_views.TenantMemberView.as_view(),
        name="api-tenant-member",
    ),
    path(
        "tenants/<slug:slug>/invitations",
        tenant_views.TenantInvitationsView.as_view(),
        name="api-tenant-invitations",
    ),
]
