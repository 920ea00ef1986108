"""The fastapi-users routes, mounted at ``/fu_auth/`` (authcore/urls.py)."""

from __future__ import annotations

from django.urls import path

from accounts.api import fastapi_users as views

urlpatterns = [
    path("jwt/login", views.LoginView.as_view(), name="fu-login"),
    path("jwt/logout", views.LogoutView.as_view(), name="fu-logout"),
    path("register", views.RegisterView.as_view(), name="fu-register"),
    path("forgot-password", views.ForgotPasswordView.as_view(), name="fu-forgot-password"),
    path("reset-password", views.ResetPasswordView.as_view(), name="fu-reset-password"),
    path(
        "request-verify-token",
        views.RequestVerifyTokenView.as_view(),
        name="fu-request-verify-token",
    ),
    path("verify", views.VerifyView.as_view(), name="fu-verify"),
    path("users/me", views.UsersMeView.as_view(), name="fu-users-me"),
]
