from django.contrib import admin

from participants.admin import ForbundScopedAdmin, SharedReferenceAdmin
from progression.models import CostParameter, ImpactAssumptions, ReferenceStatistic, ReliabilitySetting


@admin.register(ReferenceStatistic)
class ReferenceStatisticAdmin(SharedReferenceAdmin):
    """The norms behind reliable change, with how many readings each rests on (read-only)."""

    list_display = [
        "instrument",
        "dimension_code",
        "perspective",
        "n",
        "mean",
        "sd",
        "alpha",
        "alpha_n",
        "reliability",
        "reliability_source",
        "computed_at",
    ]
    list_filter = ["instrument", "perspective", "reliability_source"]

    def has_add_permission(self, request: object, *args: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
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
