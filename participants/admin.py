"""The Django admin: every permission asks participants/access.py, never Django's model permissions.

A förbund admin sees and changes only their förbund's rows, picks only their förbund's insatser and
staff in every form, and a save outside it is refused; shared code lists are read-only to them."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from participants import access
from participants.models import (
    AccessEvent,
    AccessLogReview,
    Consent,
    EducationLevel,
    ExitReason,
    Forbund,
    IncomeSource,
    Insats,
    InsatsPeriod,
    Membership,
    VolumeRegistration,
)
from participants.services import membership_delete, membership_save

OUTSIDE_FORBUND = "Du kan bara ändra uppgifter i förbund du administrerar."
MOVED_TO_ANOTHER_FORBUND = "Uppgifter kan inte flyttas till ett annat förbund; det gör driftansvarig."


class ForbundScopedAdmin(admin.ModelAdmin):
    """Rows that belong to one förbund, found by `forbund_path`. Förbund admins may view, add, change
    and delete (as `may_add`, `may_change`, `may_delete` allow) only their förbund's rows."""

    forbund_path = "forbund"
    may_add = may_change = may_delete = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return access.rows_in_administered_forbund(request.user, super().get_queryset(request), self.forbund_path)

    def forbund_id_of(self, obj: Any) -> int | None:
        """The förbund a row belongs to (after the form's changes, when saving)."""
        *path, last = self.forbund_path.split("__")
        if last == "id" and not path:
            return obj.pk
        for part in path:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id", None)

    def _in_scope(self, request: HttpRequest, obj: Any) -> bool:
        forbund_id = self.forbund_id_of(obj)
        return forbund_id is not None and access.forbund_administered_by(request.user).filter(pk=forbund_id).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.can_use_admin_site(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_use_admin_site(request.user) and (obj is None or self._in_scope(request, obj))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.may_add and access.can_use_admin_site(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.may_change and self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.may_delete and self.has_view_permission(request, obj)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        """Every choice of förbund, insats or user is limited to what the admin may assign."""
        administered = access.forbund_administered_by(request.user)
        related = db_field.related_model
        if related is Forbund:
            kwargs["queryset"] = administered
        elif related is Insats:
            kwargs["queryset"] = access.insatser_of_administered_forbund(request.user)
        elif related is get_user_model():
            kwargs["queryset"] = access.users_assignable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        access.require(self._in_scope(request, obj), OUTSIDE_FORBUND)
        if change and not access.can_edit_shared_reference_data(request.user):
            before = self.model.objects.get(pk=obj.pk)
            access.require(self.forbund_id_of(before) == self.forbund_id_of(obj), MOVED_TO_ANOTHER_FORBUND)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        access.require(self._in_scope(request, form.instance), OUTSIDE_FORBUND)
        super().save_formset(request, form, formset, change)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        access.require(all(self._in_scope(request, obj) for obj in queryset), OUTSIDE_FORBUND)
        super().delete_queryset(request, queryset)


class SharedReferenceAdmin(admin.ModelAdmin):
    """Reference data every förbund's reports depend on: readable in the admin, edited by superusers."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.can_use_admin_site(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_use_admin_site(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return access.can_edit_shared_reference_data(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_edit_shared_reference_data(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_edit_shared_reference_data(request.user)


class SuperuserOnlyAdmin(SharedReferenceAdmin):
    """Accounts and groups: only the operator (a superuser) sees, creates and changes them."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.can_edit_shared_reference_data(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_edit_shared_reference_data(request.user)


admin.site.unregister(get_user_model())
admin.site.unregister(Group)
admin.site.register(get_user_model(), type("StegvisUserAdmin", (SuperuserOnlyAdmin, UserAdmin), {}))
admin.site.register(Group, type("StegvisGroupAdmin", (SuperuserOnlyAdmin, GroupAdmin), {}))


class InsatsPeriodInline(admin.TabularInline):
    """Periods edited on their insats' page; InsatsAdmin has checked the insats' förbund."""

    model = InsatsPeriod
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_use_admin_site(request.user)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Forbund)
class ForbundAdmin(ForbundScopedAdmin):
    list_display = ["name", "code", "pseudonym_prefix", "identity_retention_years"]
    search_fields = ["name", "code"]
    forbund_path = "id"
    may_delete = False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return access.can_edit_shared_reference_data(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The code and prefix name every export and pseudonym: only the operator changes them.
        return [] if access.can_edit_shared_reference_data(request.user) else ["code", "pseudonym_prefix"]


@admin.register(Insats)
class InsatsAdmin(ForbundScopedAdmin):
    list_display = ["name", "code", "forbund", "category", "measurement_mode", "reading_interval_weeks", "active"]
    list_filter = ["category", "measurement_mode", "active"]
    search_fields = ["name", "code"]
    inlines = [InsatsPeriodInline]
    may_delete = False  # an insats with history is deactivated, not deleted


@admin.register(InsatsPeriod)
class InsatsPeriodAdmin(ForbundScopedAdmin):
    list_display = ["insats", "period_start", "period_end", "target_work_or_studies_pct", "cost_sek"]
    forbund_path = "insats__forbund"


@admin.register(Membership)
class MembershipAdmin(ForbundScopedAdmin):
    list_display = ["user", "role", "forbund", "insats", "can_read_identity"]
    list_filter = ["role"]
    search_fields = ["user__username"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return access.memberships_administered_by(request.user).select_related("user", "forbund", "insats")

    def forbund_id_of(self, obj: Membership) -> int | None:
        if obj.forbund_id is not None:
            return obj.forbund_id
        return obj.insats.forbund_id if obj.insats is not None else None

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never on one's own roles (access.can_assign_role)."""
        if obj is None or not super().has_change_permission(request, obj):
            return super().has_change_permission(request, obj)
        forbund_id = self.forbund_id_of(obj)
        return forbund_id is not None and access.can_assign_role(request.user, obj.user, forbund_id)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        membership_save(by=access.signed_in(request.user), membership=obj)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_delete(by=access.signed_in(request.user), membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        by = access.signed_in(request.user)
        for membership in queryset.select_related("user", "forbund", "insats"):
            membership_delete(by=by, membership=membership)


@admin.register(IncomeSource)
class IncomeSourceAdmin(SharedReferenceAdmin):
    list_display = ["code", "label_sv", "payer", "sort_order", "active"]


@admin.register(ExitReason)
class ExitReasonAdmin(SharedReferenceAdmin):
    list_display = [
        "code",
        "label_sv",
        "counts_as_work_or_studies",
        "counts_as_further_rehab",
        "excluded_from_reports",
        "active",
    ]


@admin.register(EducationLevel)
class EducationLevelAdmin(SharedReferenceAdmin):
    list_display = ["code", "label_sv", "sort_order", "active"]


class AppendOnlyAdmin(ForbundScopedAdmin):
    """Append-only records: readable in admin, never changed or deleted there."""

    may_add = may_change = may_delete = False


@admin.register(AccessEvent)
class AccessEventAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "user", "forbund", "participant", "action", "reason"]
    list_filter = ["action"]


@admin.register(AccessLogReview)
class AccessLogReviewAdmin(AppendOnlyAdmin):
    list_display = ["reviewed_at", "forbund", "period_start", "period_end", "reviewed_by", "note"]


@admin.register(Consent)
class ConsentAdmin(AppendOnlyAdmin):
    list_display = ["participant", "purpose", "granted", "channel", "recorded_by", "recorded_at"]
    list_filter = ["purpose", "granted"]
    forbund_path = "participant__forbund"


@admin.register(VolumeRegistration)
class VolumeRegistrationAdmin(ForbundScopedAdmin):
    list_display = ["insats", "period_start", "period_end", "category", "kon", "count"]
    forbund_path = "insats__forbund"
    readonly_fields = ["registered_by"]

    def save_model(self, request: HttpRequest, obj: VolumeRegistration, form: Any, change: bool) -> None:
        if not change:
            obj.registered_by = access.signed_in(request.user)
        super().save_model(request, obj, form, change)
