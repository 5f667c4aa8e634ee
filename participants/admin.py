from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from participants.models import (
    AccessEvent,
    Consent,
    EducationLevel,
    ExitReason,
    Forbund,
    IncomeSource,
    Insats,
    InsatsPeriod,
    Membership,
    Role,
    VolumeRegistration,
)
from participants.selectors import forbund_list_for_user, insats_list_for_user


class ForbundScopedAdmin(admin.ModelAdmin):
    """A förbund admin sees and edits only rows of the förbund they administer."""

    forbund_path = "forbund"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        forbund = forbund_list_for_user(user=request.user, roles=[Role.ADMIN])
        return rows.filter(**{f"{self.forbund_path}__in": forbund}).distinct()


class InsatsPeriodInline(admin.TabularInline):
    model = InsatsPeriod
    extra = 0


@admin.register(Forbund)
class ForbundAdmin(ForbundScopedAdmin):
    list_display = ["name", "code", "pseudonym_prefix", "identity_retention_years"]
    search_fields = ["name", "code"]
    forbund_path = "id"


@admin.register(Insats)
class InsatsAdmin(ForbundScopedAdmin):
    list_display = ["name", "code", "forbund", "category", "measurement_mode", "capacity", "active"]
    list_filter = ["forbund", "category", "measurement_mode", "active"]
    search_fields = ["name", "code"]
    inlines = [InsatsPeriodInline]


@admin.register(InsatsPeriod)
class InsatsPeriodAdmin(ForbundScopedAdmin):
    list_display = ["insats", "period_start", "period_end", "target_work_or_studies_pct", "cost_sek"]
    list_filter = ["insats__forbund"]
    forbund_path = "insats__forbund"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "forbund", "insats", "can_read_identity"]
    list_filter = ["role", "forbund"]
    search_fields = ["user__username"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        rows = super().get_queryset(request).select_related("user", "forbund", "insats")
        if request.user.is_superuser:
            return rows
        forbund = forbund_list_for_user(user=request.user, roles=[Role.ADMIN])
        insatser = insats_list_for_user(user=request.user, roles=[Role.ADMIN])
        return rows.filter(forbund__in=forbund) | rows.filter(insats__in=insatser)


@admin.register(IncomeSource)
class IncomeSourceAdmin(admin.ModelAdmin):
    list_display = ["code", "label_sv", "payer", "sort_order", "active"]


@admin.register(ExitReason)
class ExitReasonAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "label_sv",
        "counts_as_work_or_studies",
        "counts_as_further_rehab",
        "excluded_from_reports",
        "active",
    ]


@admin.register(EducationLevel)
class EducationLevelAdmin(admin.ModelAdmin):
    list_display = ["code", "label_sv", "sort_order", "active"]


class AppendOnlyAdmin(ForbundScopedAdmin):
    """Append-only records: readable in admin, never changed or deleted there."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "user", "participant", "action", "reason"]
    list_filter = ["action"]
    forbund_path = "participant__forbund"


@admin.register(Consent)
class ConsentAdmin(AppendOnlyAdmin):
    list_display = ["participant", "purpose", "granted", "channel", "recorded_by", "recorded_at"]
    list_filter = ["purpose", "granted"]
    forbund_path = "participant__forbund"


@admin.register(VolumeRegistration)
class VolumeRegistrationAdmin(ForbundScopedAdmin):
    list_display = ["insats", "period_start", "period_end", "category", "kon", "count"]
    forbund_path = "insats__forbund"
