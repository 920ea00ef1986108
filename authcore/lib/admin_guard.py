"""Every admin page keeps secrets secret and every admin edit of a credential only narrows.

``guard_site`` puts ``SecretGuard`` in front of every ModelAdmin of a site (Django's own,
third-party ones, and any registered later) and of every inline they show, so no admin
has to remember to opt in. For each secret column of authcore/lib/secret_fields.py,
directly or through any chain of relations:

- a URL filter on it is refused with 400 (a count per prefix would read it out), and so is
  a filter on a queryset annotation (an annotation can carry a secret column's value);
- it is never a search field, a list filter, a list column or a sort order;
- a form shows it only through a read-only widget that prints no part of it (a password
  hash shows its algorithm), and takes no value for it.

Forms of the models in authcore/lib/access_edits.py refuse any edit that would give access
back (re-activating, un-revoking, extending, releasing a hold) and any new row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.admin import AdminSite, ModelAdmin, SimpleListFilter
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.forms import ReadOnlyPasswordHashField, ReadOnlyPasswordHashWidget
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, identify_hasher
from django.core.exceptions import FieldDoesNotExist, FieldError, PermissionDenied, ValidationError
from django.db.models import Field, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import F, RawSQL
from django.db.models.sql import Query
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext

from authcore.lib import access_edits
from authcore.lib.secret_fields import is_secret

if TYPE_CHECKING:
    # The mixins below are put ahead of these classes at run time; to the type checker they
    # are subclasses, so their super() calls are checked against the real signatures.
    _FormBase = forms.ModelForm[Any]
    _AdminBase = ModelAdmin[Any]
    _SiteBase = AdminSite
else:
    _FormBase = _AdminBase = _SiteBase = object

# ---- Which names reach a secret -------------------------------------------------------------


def is_secret_field(field: Any) -> bool:
    """Whether a model field holds a secret (a reverse relation never does)."""
    model = getattr(field, "model", None)
    if not getattr(field, "concrete", False) or model is None:
        return False
    return is_secret(model._meta.label, field.name)


def field_named(model: type[Model], name: str) -> Any:
    """The field (or reverse relation) a lookup part names on ``model``; None if none."""
    if name == "pk":
        return model._meta.pk
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def secret_path(model: type[Model], path: str) -> bool:
    """Whether lookup ``path`` (``user__api_keys__digest__startswith``) reads a secret.

    Walks the relations the ORM would follow; the first part that is not a field is a
    transform or lookup of the field before it. A path that ends on a relation compares
    the key of the row it points at, which is checked too.
    """
    field = None
    for part in path.split(LOOKUP_SEP):
        found = field_named(model, part)
        if found is None:
            break
        field = found
        if is_secret_field(field):
            return True
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    if field is None or not field.is_relation:
        return False
    try:
        target = field.target_field
    except (AttributeError, FieldError):
        return False
    return is_secret_field(target)


def reads_secret(expression: Any) -> bool:
    """Whether a resolved expression (an annotation) reads a secret column.

    Raw SQL cannot be looked into and counts as reading one.
    """
    if isinstance(expression, RawSQL):
        return True
    parts: list[Any] = []
    if isinstance(expression, Query):
        parts += [*expression.select, *expression.annotations.values(), expression.where]
    else:
        target = getattr(expression, "target", None)
        if isinstance(target, Field) and is_secret_field(target):
            return True
        query = getattr(expression, "query", None)
        if isinstance(query, Query):
            parts.append(query)
        sources = getattr(expression, "get_source_expressions", None)
        if sources is not None:
            parts += sources()
    return any(reads_secret(part) for part in parts if part is not None)


def _referenced_names(expression: Any) -> Iterator[str]:
    """The field names an unresolved ordering expression refers to (``F("digest")``)."""
    if isinstance(expression, F):
        yield expression.name  # type: ignore[attr-defined]  # F.name is missing from the stubs
    sources = getattr(expression, "get_source_expressions", None)
    for source in sources() if sources is not None else ():
        if source is not None:
            yield from _referenced_names(source)


def orders_by_secret(queryset: QuerySet[Any], order: Any) -> bool:
    """Whether ordering by ``order`` (a name, path or expression) sorts on a secret.

    A sort order is an oracle too: rows of known values around a secret one bound it.
    """
    if hasattr(order, "resolve_expression"):
        if isinstance(order, RawSQL) or any(isinstance(e, RawSQL) for e in _walk(order)):
            return True
        return any(orders_by_secret(queryset, name) for name in _referenced_names(order))
    path = str(order).lstrip("-")
    first = path.split(LOOKUP_SEP, 1)[0]
    annotation = queryset.query.annotations.get(first)
    if field_named(queryset.model, first) is None and annotation is not None:
        return reads_secret(annotation)
    return secret_path(queryset.model, path)


def _walk(expression: Any) -> Iterator[Any]:
    sources = getattr(expression, "get_source_expressions", None)
    for source in sources() if sources is not None else ():
        if source is not None:
            yield source
            yield from _walk(source)


# ---- What a form shows of a secret ---------------------------------------------------------


class PasswordAlgorithmWidget(ReadOnlyPasswordHashWidget):
    """Django's read-only password widget, showing the hash's algorithm only.

    Django's own shows the first characters of the salt and of the hash as well.
    """

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = forms.Widget.get_context(self, name, value, attrs)
        usable = bool(value) and not str(value).startswith(UNUSABLE_PASSWORD_PREFIX)
        if not usable:
            summary = [{"label": gettext("No password set.")}]
        else:
            try:
                algorithm = identify_hasher(value).algorithm
            except ValueError:
                label = "Invalid password format or unknown hashing algorithm."
                summary = [{"label": gettext(label)}]
            else:
                summary = [{"label": gettext("algorithm"), "value": algorithm or ""}]
        context["summary"] = summary
        context["button_label"] = gettext("Reset password" if usable else "Set password")
        return context


class SecretWidget(forms.Widget):
    """Says whether a secret is set; prints no part of it (also on view-only pages)."""

    read_only = True  # the admin renders it in place of the value on read-only pages

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        shown = "set (not shown)" if value not in (None, "") else "not set"
        return format_html('<div class="readonly">{}</div>', shown)

    def id_for_label(self, id_: str) -> str:
        return ""  # no <label for=...>: there is no input to point at


class SecretField(forms.Field):
    """A secret column in a form: shown as set or not, never taken from the request."""

    widget = SecretWidget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["required"] = False
        kwargs["disabled"] = True
        super().__init__(*args, **kwargs)


def _safe_field(field: forms.Field) -> forms.Field:
    if isinstance(field, ReadOnlyPasswordHashField):
        return ReadOnlyPasswordHashField(
            label=field.label, help_text=field.help_text, widget=PasswordAlgorithmWidget
        )
    return SecretField(label=field.label, help_text=field.help_text)


def _stored(instance: Model, rules: dict[str, str]) -> dict[str, Any] | None:
    """The rule fields of ``instance`` as the database has them; None for a new row."""
    if instance.pk is None or instance._state.adding:
        return None
    manager = type(instance)._base_manager.using(instance._state.db)
    names = [name for name in rules if field_named(type(instance), name) is not None]
    return manager.filter(pk=instance.pk).values(*names).first()


def _key(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


def widenings_of(instance: Model, values: dict[str, Any] | None = None) -> list[str]:
    """Why saving ``instance`` (with ``values`` in place of its own) would widen access."""
    label = instance._meta.label
    rules = access_edits.rules_for(label)
    if not rules:
        return []
    before = _stored(instance, rules)
    after: dict[str, Any] = {}
    for name in rules:
        field = field_named(type(instance), name)
        if field is None:
            continue
        if values is not None and name in values:
            after[name] = _key(values[name])
        else:
            after[name] = getattr(instance, field.attname)
    return access_edits.widenings(label, before, after)


class _GuardedForm(_FormBase):
    """Mixed in ahead of a ModelForm: refuses an edit that would widen access."""

    _guarded = True

    def clean(self) -> Any:
        cleaned = super().clean()
        values = {
            name: value
            for name, value in (self.cleaned_data or {}).items()
            if name in self.fields and not self.fields[name].disabled
        }
        problems = widenings_of(self.instance, values)
        if problems:
            raise ValidationError(
                [f"Refused: {problem}. Issue a new credential instead." for problem in problems],
                code="widens_access",
            )
        return cleaned


def guarded_form(form_class: Any, declare: bool = True) -> Any:
    """``form_class`` with its secret fields made safe and widening edits refused.

    With ``declare``, every secret field of the model is in the form, safe, even where the
    admin left it out: a view-only page excludes every field from its form and prints the
    ones its fieldsets name as they are, unless the form has a read-only widget for them.
    """
    if form_class is None or getattr(form_class, "_guarded", False):
        return form_class
    model = getattr(getattr(form_class, "_meta", None), "model", None)
    if model is None:
        return form_class
    attrs: dict[str, Any] = {"__module__": form_class.__module__}
    for name, field in form_class.base_fields.items():
        if secret_path(model, name):
            attrs[name] = _safe_field(field)
    if declare:
        for model_field in model._meta.concrete_fields:
            if is_secret_field(model_field) and model_field.name not in attrs:
                attrs[model_field.name] = SecretField(label=capfirst(model_field.verbose_name))
    meta = type(form_class)
    return meta(form_class.__name__, (_GuardedForm, form_class), attrs)


@functools.cache
def _guarded_changelist(changelist_class: type[ChangeList]) -> type[ChangeList]:
    # Ignored: mypy takes no base class from a variable.
    class GuardedChangeList(changelist_class):  # type: ignore[valid-type,misc]
        """Never sorts on a secret, whatever column ``?o=`` names."""

        def get_ordering_field(self, field_name: Any) -> Any:
            order = super().get_ordering_field(field_name)
            if order is not None and orders_by_secret(self.root_queryset, order):
                return None
            return order

    return GuardedChangeList


# ---- The guard -------------------------------------------------------------------------------


class SecretGuard(_AdminBase):
    """Put ahead of a ModelAdmin's or inline's own class by ``guard``: see the module."""

    model: type[Model]

    # ---- the changelist

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if secret_path(self.model, lookup) or self._names_an_annotation(lookup, request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _names_an_annotation(self, lookup: str, request: HttpRequest) -> bool:
        first = lookup.split(LOOKUP_SEP, 1)[0]
        if field_named(self.model, first) is not None:
            return False
        queryset = self.get_queryset(request)
        parameters = {
            item.parameter_name
            for item in self.get_list_filter(request)
            if isinstance(item, type) and issubclass(item, SimpleListFilter)
        }
        return first in queryset.query.annotations and first not in parameters

    def to_field_allowed(self, request: HttpRequest, to_field: str) -> bool:
        if secret_path(self.model, to_field):
            return False
        return super().to_field_allowed(request, to_field)

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        fields = super().get_search_fields(request)
        return [name for name in fields if not secret_path(self.model, name.lstrip("^=@"))]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        items = super().get_list_filter(request)
        return [item for item in items if not self._filters_a_secret(item)]

    def _filters_a_secret(self, item: Any) -> bool:
        target = item[0] if isinstance(item, tuple | list) else item
        if isinstance(target, Field):
            return is_secret_field(target)
        return isinstance(target, str) and secret_path(self.model, target)

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns = super().get_list_display(request)
        return [c for c in columns if not (isinstance(c, str) and secret_path(self.model, c))]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        changelist = super().get_changelist(request, **kwargs)
        # Ignored: mypy does not count a class as Hashable, which functools.cache asks for.
        return _guarded_changelist(changelist)  # type: ignore[arg-type]

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        form = super().get_changelist_form(request, **kwargs)
        return guarded_form(form, declare=False)

    # ---- the change page

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A read-only field prints its value; a secret is shown by its form field instead.
        fields = super().get_readonly_fields(request, obj)
        return [f for f in fields if not (isinstance(f, str) and secret_path(self.model, f))]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str] | None:
        # An excluded field listed in the fieldsets would be printed as read-only on a
        # view-only page; kept in the form, it is shown by its safe widget.
        exclude = super().get_exclude(request, obj)
        if exclude is None:
            return None
        return [f for f in exclude if not (isinstance(f, str) and secret_path(self.model, f))]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        return guarded_form(super().get_form(request, obj, change=change, **kwargs))

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # Reached on inlines only, whose base (InlineModelAdmin) has get_formset.
        formset = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]  # see above
        return type(formset)(formset.__name__, (formset,), {"form": guarded_form(formset.form)})

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        inlines = super().get_inline_instances(request, obj)
        return [guard(inline) for inline in inlines]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        # The form refuses these already; this holds for whatever else set the values.
        if widenings_of(obj):
            raise PermissionDenied("This edit would widen access.")
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        deleted = set(map(id, getattr(formset, "deleted_forms", [])))
        for inline_form in formset.forms:
            if id(inline_form) not in deleted and inline_form.has_changed():
                if widenings_of(inline_form.instance):
                    raise PermissionDenied("This edit would widen access.")
        super().save_formset(request, form, formset, change)


@functools.cache
def _guarded_class(cls: type) -> type:
    return type(cls)(
        cls.__name__,
        (SecretGuard, cls),
        {"__module__": cls.__module__, "__qualname__": cls.__qualname__},
    )


def guard(model_admin: Any) -> Any:
    """Puts SecretGuard ahead of the class of one ModelAdmin or inline instance."""
    if not isinstance(model_admin, SecretGuard):
        # Ignored: mypy does not count a class as Hashable, which functools.cache asks for.
        model_admin.__class__ = _guarded_class(type(model_admin))  # type: ignore[arg-type]
    return model_admin


class _GuardedSite(_SiteBase):
    """Mixed in ahead of an AdminSite's class: guards every admin it registers."""

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        super().register(model_or_iterable, admin_class, **options)
        self.guard_all()

    def get_urls(self) -> list[URLResolver | URLPattern]:
        self.guard_all()
        return super().get_urls()

    def guard_all(self) -> None:
        for model_admin in self._registry.values():
            guard(model_admin)


@functools.cache
def _guarded_site_class(cls: type) -> type:
    return type(cls.__name__, (_GuardedSite, cls), {"__module__": cls.__module__})


def guard_site(site: AdminSite) -> AdminSite:
    """Guards every ModelAdmin of ``site``: the registered ones now, later ones as they come."""
    if not isinstance(site, _GuardedSite):
        # __class__, not type(): admin.site is a lazy proxy of the real site.
        # Ignored: mypy does not count a class as Hashable, which functools.cache asks for.
        site.__class__ = _guarded_site_class(site.__class__)  # type: ignore[arg-type]
    assert isinstance(site, _GuardedSite)
    site.guard_all()
    return site


def is_guarded(site: AdminSite) -> bool:
    """Whether ``site`` and every admin on it are guarded."""
    return isinstance(site, _GuardedSite) and all(
        isinstance(model_admin, SecretGuard) for model_admin in site._registry.values()
    )
