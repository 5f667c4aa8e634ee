"""Instruments are read-only here: they change only by loading a definition file (manage.py load_instrument).

A published version must never change, and a draft exists only inside a load, so the admin
offers no add, change or delete at all.
"""

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from participants import access
from surveys.models import Dimension, Instrument, InstrumentVersion, Item

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _ItemCount(TypedDict):
    item_count: int


class ReadOnlyMixin:
    """Visible to everyone who may use the admin (participants/access.py); changed by nobody."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.can_use_admin_site(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_use_admin_site(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InstrumentVersionInline(ReadOnlyMixin, admin.TabularInline):
    model = InstrumentVersion
    fields = ["number", "status", "published_at", "content_hash"]
    show_change_link = True
    extra = 0


class DimensionInline(ReadOnlyMixin, admin.TabularInline):
    model = Dimension
    fields = ["order", "code", "label", "is_rating"]
    extra = 0


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "name", "purpose"]
    list_filter = ["purpose"]
    search_fields = ["code", "name"]
    inlines = [InstrumentVersionInline]


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["instrument", "number", "status", "published_at", "item_count"]
    list_filter = ["instrument", "status"]
    inlines = [DimensionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InstrumentVersion]:
        return super().get_queryset(request).select_related("instrument").annotate(item_count=Count("items"))

    @admin.display(description="frågor", ordering="item_count")
    def item_count(self, version: "WithAnnotations[InstrumentVersion, _ItemCount]") -> int:
        return version.item_count


@admin.register(Item)
class ItemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "version", "dimension", "scale", "applies_to", "reverse_coded", "required"]
    list_filter = ["version__instrument", "version", "applies_to", "reverse_coded"]
    search_fields = ["code"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        return super().get_queryset(request).select_related("version__instrument", "dimension", "scale")
