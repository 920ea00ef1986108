"""URL routes: the admin site (the inspection tool for the migration)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
