"""Closed report periods: a coordinator closes a standard period of a year (helår 2025 for the
årsredovisning, delår, a tertial or a halvår); every report of it is then computed once and frozen,
with the norm set and algorithm version in force, so that the same report gives the same figures
next year, however many readings arrive. Reopening is a förbund admin's action with a reason.

Frozen are the reports on the publication grid: the whole förbund and each insats alone, without
kön or age filter, exact and protected (and income-sources with and without its per-kön tables).
Any other selection of a closed period is computed from today's data and says so; a report of a
period that is not closed says that it is preliminary (docs/progression.md, "Closed periods")."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from participants import access
from participants.models import Forbund, Insats
from progression.models import ClosureStatus, FrozenReport, PeriodClosure
from progression.reports.base import Chart, Report, Table
from progression.reports.filters import PRESETS, FilterError, ReportFilter, preset_period

# Reports whose tables depend on the per-kön switch: frozen in both variants.
BY_KON_REPORTS = {"income-sources"}
REOPEN_REASON_SHORTEST = 10
FIRST_CLOSABLE_YEAR = 2000
PRELIMINARY = (
    "Preliminärt: perioden är inte stängd, och siffrorna kan ändras när nya mätningar och registreringar kommer in."
)


class ClosureError(ValueError):
    """A period that cannot be closed or reopened; the message is Swedish and names the problem."""


@dataclass(frozen=True)
class Variant:
    name: str
    insats: Insats | None  # None: the whole förbund
    external: bool
    by_kon: bool


def period_label(date_from: date, date_to: date) -> str:
    """ "Helår 2025", "Tertial 2 2026"; free dates as they are."""
    for preset, label in PRESETS:
        if preset_period(preset, date_from.year) == (date_from, date_to):
            return f"{label} {date_from.year}"
    return f"{date_from:%Y-%m-%d}–{date_to:%Y-%m-%d}"


def forbund_insatser(forbund: Forbund) -> tuple[Insats, ...]:
    """Every insats of the förbund, in the order parse_filter gives them."""
    return tuple(Insats.objects.filter(forbund=forbund).order_by("name", "id"))


def frozen_variants(forbund: Forbund, names: list[str]) -> list[Variant]:
    selections: list[Insats | None] = [None, *forbund_insatser(forbund)]
    return [
        Variant(name, insats, external, by_kon)
        for name in names
        for insats in selections
        for external in (False, True)
        for by_kon in ((False, True) if name in BY_KON_REPORTS else (False,))
    ]


def variant_filters(closure: PeriodClosure, variant: Variant) -> ReportFilter:
    insatser = (variant.insats,) if variant.insats else forbund_insatser(closure.forbund)
    return ReportFilter(
        forbund=closure.forbund,
        insatser=insatser,
        date_from=closure.date_from,
        date_to=closure.date_to,
        by_kon=variant.by_kon,
        external=variant.external,
    )


# --- Closing and reopening ------------------------------------------------------------------------


def period_close(*, by: User, forbund: Forbund, preset: str, year: int) -> PeriodClosure:
    """Close a standard period that has ended; its reports are frozen in the background
    (progression.tasks.freeze_period), and until they are, it is shown as being closed."""
    from progression import norms
    from progression.scoring import ALGORITHM_VERSION
    from progression.tasks import freeze_period

    if not access.can_close_period(by, forbund):
        raise ClosureError("Bara förbundets samordnare eller administratör kan stänga en period.")
    if not FIRST_CLOSABLE_YEAR <= year <= timezone.localdate().year:
        raise ClosureError(f"Året måste vara mellan {FIRST_CLOSABLE_YEAR} och {timezone.localdate().year}.")
    try:
        date_from, date_to = preset_period(preset, year)
    except FilterError as exc:
        raise ClosureError("Välj en period i listan: helår, delår, tertial eller halvår.") from exc
    label = period_label(date_from, date_to)
    if date_to >= timezone.localdate():
        raise ClosureError(f"{label} är inte slut än (sista dagen är {date_to:%Y-%m-%d}); stäng den efteråt.")
    try:
        with transaction.atomic():
            closure = PeriodClosure.objects.create(
                forbund=forbund,
                date_from=date_from,
                date_to=date_to,
                label=label,
                closed_by=by,
                norm_set=norms.current_norm_set(),
                algorithm_version=ALGORITHM_VERSION,
            )
    except IntegrityError as exc:
        raise ClosureError(f"{label} är redan stängd för {forbund.name}.") from exc
    transaction.on_commit(lambda: freeze_period.delay(closure.pk))
    return closure


def period_reopen(*, by: User, closure: PeriodClosure, reason: str) -> PeriodClosure:
    """Reopen a closed (or failed) period: its reports are computed from today's data again. The
    frozen reports stay, with who reopened it, when and why."""
    if not access.can_reopen_period(by, closure.forbund):
        raise ClosureError("Bara förbundets administratör kan öppna en stängd period igen.")
    reason = reason.strip()
    if "\x00" in reason:
        raise ClosureError("Skälet innehåller ett tecken som inte kan sparas (NUL); skriv det igen.")
    if len(reason) < REOPEN_REASON_SHORTEST:
        raise ClosureError(f"Skriv varför perioden öppnas igen (minst {REOPEN_REASON_SHORTEST} tecken); skälet sparas.")
    updated = PeriodClosure.objects.filter(
        pk=closure.pk, status__in=[ClosureStatus.CLOSED, ClosureStatus.FAILED]
    ).update(status=ClosureStatus.REOPENED, reopened_by=by, reopened_at=timezone.now(), reopen_reason=reason)
    if not updated:
        raise ClosureError(f"{closure.label} är inte stängd (den fryses just nu eller är redan öppnad igen).")
    closure.refresh_from_db()
    return closure


# --- Reports of closed periods --------------------------------------------------------------------


def report_content(report: Report) -> dict[str, Any]:
    return {
        "title": report.title,
        "data": report.data,
        "tables": [table.__dict__ for table in report.tables],
        "charts": [chart.__dict__ for chart in report.charts],
        "definitions": report.definitions,
        "empty_message": report.empty_message,
    }


def _report_from_content(name: str, content: dict[str, Any], filters: ReportFilter) -> Report:
    return Report(
        name,
        content["title"],
        filters,
        filters.external,
        content["data"],
        [Table(**table) for table in content["tables"]],
        [Chart(**{**chart, "series": [tuple(series) for series in chart["series"]]}) for chart in content["charts"]],
        list(content["definitions"]),
        empty_message=content.get("empty_message", ""),  # not stored by periods frozen before 2026-12
    )


def _frozen_selection(filters: ReportFilter) -> Insats | None | bool:
    """The frozen selection the filters ask for: None for the whole förbund, an insats, or False
    when the filters are off the frozen grid (kön or age, a subset of insatser)."""
    if filters.kon or filters.age_band:
        return False
    if filters.all_insatser:
        return None
    if len(filters.insatser) == 1:
        return filters.insatser[0]
    return False


def _closures(filters: ReportFilter) -> list[PeriodClosure]:
    """Closures (closed or being closed) of the förbund whose period overlaps the filters'."""
    return list(
        PeriodClosure.objects.filter(
            forbund=filters.forbund,
            status__in=[ClosureStatus.CLOSED, ClosureStatus.FREEZING],
            date_from__lte=filters.date_to,
            date_to__gte=filters.date_from,
        ).select_related("closed_by", "norm_set")
    )


def _closure_facts(closure: PeriodClosure) -> dict[str, Any]:
    return {
        "status": "frozen",
        "period": closure.label,
        "closed_at": timezone.localtime(closure.closed_at).strftime("%Y-%m-%d %H:%M"),
        "closed_by": closure.closed_by.get_username(),
        "norm_set": closure.norm_set.version if closure.norm_set else None,
        "algorithm_version": closure.algorithm_version,
    }


def report_for_period(name: str, filters: ReportFilter, compute: Any) -> Report:
    """The report as frozen when its period was closed, or `compute(name, filters)` with a line that
    says why its figures may still change."""
    closures = _closures(filters)
    exact = next((c for c in closures if (c.date_from, c.date_to) == (filters.date_from, filters.date_to)), None)
    selection = _frozen_selection(filters) if exact is not None and exact.status == ClosureStatus.CLOSED else False
    if exact is not None and selection is not False:
        frozen = FrozenReport.objects.filter(
            closure=exact,
            name=name,
            insats=selection,
            external=filters.external,
            by_kon=filters.by_kon and name in BY_KON_REPORTS,
        ).first()
        if frozen is not None:
            report = _report_from_content(name, frozen.content, filters)
            facts = _closure_facts(exact)
            report.period_status = facts
            report.definitions.append(
                f"Fryst: {exact.label} stängdes {facts['closed_at']} av {facts['closed_by']}. Siffrorna räknades då"
                + (f", mot normversion {facts['norm_set']}" if facts["norm_set"] else "")
                + f" och algoritmversion {facts['algorithm_version']}, och ändras inte av senare uppgifter."
            )
            return report
    report = compute(name, filters)
    if exact is not None and exact.status == ClosureStatus.FREEZING:
        note = f"{exact.label} håller på att stängas; när det är klart visas de frysta siffrorna."
        status = "freezing"
    elif exact is not None:
        note = (
            f"{exact.label} är stängd, men bara hela förbundet och varje insats för sig (utan kön- eller "
            "åldersurval) är frysta. Det här urvalet räknas med dagens uppgifter och kan skilja sig från de frysta."
        )
        status = "not_frozen"
    elif closures:
        labels = ", ".join(sorted({c.label for c in closures}))
        note = (
            f"Perioden är inte själv stängd (den överlappar {labels}) och räknas med dagens uppgifter; "
            "siffrorna kan ändras."
        )
        status = "preliminary"
    else:
        note, status = PRELIMINARY, "preliminary"
    report.period_status = {"status": status}
    report.definitions.append(note)
    return report
