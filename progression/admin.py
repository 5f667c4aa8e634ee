from django.contrib import admin

from participants.admin import ForbundScopedAdmin, SharedReferenceAdmin
from progression.models import CostParameter, ImpactAssumptions, Norm, NormSet, ReliabilitySetting

NORM_FIELDS = (
    "version",
    "dimension_code",
    "perspective",
    "n",
    "mean",
    "sd",
    "reliability",
    "reliability_note",
    "usable",
)
NORM_SET_COLUMNS = ("version", "created_at", "created_by", "reason", "minimum_n", "demo_excluded")


class NormInline(admin.TabularInline):
    model = Norm
    fields = NORM_FIELDS
    readonly_fields = NORM_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(NormSet)
class NormSetAdmin(SharedReferenceAdmin):
    """The norm sets, read-only: a new one is made on the norms page (Normer), with a reason."""

    list_display = NORM_SET_COLUMNS
    readonly_fields = [*NORM_SET_COLUMNS, "algorithm_version"]
    inlines = [NormInline]

    def has_add_permission(self, request: object, *args: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ReliabilitySetting)
class ReliabilitySettingAdmin(SharedReferenceAdmin):
    list_display = ["instrument", "dimension_code", "test_retest", "source"]


@admin.register(CostParameter)
class CostParameterAdmin(SharedReferenceAdmin):
    list_display = ["year", "kommun", "income_source", "yearly_cost_sek", "source"]
    list_filter = ["year", "kommun"]


@admin.register(ImpactAssumptions)
class ImpactAssumptionsAdmin(ForbundScopedAdmin):
    list_display = ["forbund", "deadweight_pct", "attribution_pct", "dropoff_pct", "discount_rate_pct"]
