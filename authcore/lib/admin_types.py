"""Django's admin base classes as the admins here subclass them, typed for any model.

django-stubs makes ModelAdmin, the inlines and the paginator generic in what they hold, but
Django cannot subscript them at run time (``ModelAdmin[User]`` raises TypeError without
django-stubs-ext's monkeypatch). These names are the plain classes at run time and the
classes over any model to the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.paginator import Paginator

if TYPE_CHECKING:
    AnyModelAdmin = admin.ModelAdmin[Any]
    AnyTabularInline = admin.TabularInline[Any, Any]
    AnyStackedInline = admin.StackedInline[Any, Any]
    AnyPaginator = Paginator[Any]
else:
    AnyModelAdmin = admin.ModelAdmin
    AnyTabularInline = admin.TabularInline
    AnyStackedInline = admin.StackedInline
    AnyPaginator = Paginator

__all__ = ["AnyModelAdmin", "AnyPaginator", "AnyStackedInline", "AnyTabularInline"]
