"""A naive per-row ORM version of the full rebuild (scores and progression), for information only:
what the set-based engine in progression/scoring.py is meant to avoid. Same definitions, same rows
written (DimensionScore, Progression), one session and one enrolment at a time."""

import time

from django.utils import timezone

from participants.models import Enrolment
from progression import norms
from progression.models import DimensionScore, Progression
from progression.scoring import ALGORITHM_VERSION, SCORED_STATUSES, reliable_change
from surveys.models import ITEMS_ASKED_IN, AssessmentSession, Item


def naive_rebuild(*, fraction: float = 1.0) -> tuple[float, float]:
    """Scores then progression, row by row, for the first `fraction` of the enrolments (by id);
    returns (seconds, share of all scored readings processed) so the full time can be extrapolated
    (the work is per row, so it is linear)."""
    enrolment_ids = list(Enrolment.objects.order_by("id").values_list("id", flat=True))
    last = enrolment_ids[max(0, int(len(enrolment_ids) * fraction) - 1)]
    sessions = AssessmentSession.objects.filter(status__in=SCORED_STATUSES)
    share = sessions.filter(enrolment_id__lte=last).count() / max(1, sessions.count())
    started = time.perf_counter()
    for session in sessions.filter(enrolment_id__lte=last).iterator():
        items = Item.objects.filter(
            version_id=session.version_id,
            dimension__is_rating=True,
            scale__kind="ladder",
            applies_to__in=ITEMS_ASKED_IN[session.perspective],
        ).select_related("scale")
        answers = {a.item_id: a.value for a in session.answers.all()}
        by_dimension: dict[int, list] = {}
        for item in items:
            by_dimension.setdefault(item.dimension_id, []).append(item)
        for dimension_id, dimension_items in by_dimension.items():
            values = []
            for item in dimension_items:
                value = answers.get(item.id)
                if value is None:
                    continue
                low, high = item.scale.min_value, item.scale.max_value
                turned = low + high - value if item.reverse_coded else value
                values.append((turned - low) * 100.0 / (high - low))
            score = sum(values) / len(values) if values and len(values) * 2 >= len(dimension_items) else None
            DimensionScore.objects.update_or_create(
                session=session,
                dimension_id=dimension_id,
                defaults={
                    "score": score,
                    "answered": len(values),
                    "items": len(dimension_items),
                    "algorithm_version": ALGORITHM_VERSION,
                },
            )
    norm_set = norms.norm_set_for_progression()
    references = {(r.version_id, r.dimension_code, r.perspective): r for r in norm_set.norms.all()}
    for enrolment in Enrolment.objects.filter(id__lte=last).iterator():
        readings: dict[tuple, list] = {}
        for score in (
            DimensionScore.objects.filter(
                session__enrolment=enrolment,
                session__status="submitted",
                session__consent_withdrawn=False,
                score__isnull=False,
            )
            .select_related("session__version", "dimension")
            .order_by("session__occurred_at", "session_id")
        ):
            key = (score.session.version.instrument_id, score.dimension.code, score.session.perspective)
            readings.setdefault(key, []).append(score)
        for (instrument_id, code, perspective), scores in readings.items():
            first, latest = scores[0], scores[-1]
            change = latest.score - first.score if len(scores) >= 2 else None
            reference = references.get((first.session.version_id, code, perspective))
            usable = reference is not None and reference.usable
            verdict = reliable_change(
                change=change,
                baseline_sd=reference.sd if usable else None,
                reliability=reference.reliability if usable else None,
            )
            Progression.objects.update_or_create(
                enrolment=enrolment,
                instrument_id=instrument_id,
                dimension_code=code,
                perspective=perspective,
                defaults={
                    "n_readings": len(scores),
                    "first_session": first.session,
                    "first_score": first.score,
                    "latest_session": latest.session,
                    "latest_score": latest.score,
                    "latest_on": timezone.localdate(latest.session.occurred_at),
                    "change": change,
                    "baseline_sd": reference.sd if reference else None,
                    "reliability": reference.reliability if reference else None,
                    "rci": verdict.rci,
                    "classification": verdict.classification,
                    "meets_mid": verdict.meets_mid,
                    "norm_set": norm_set,
                    "norm": reference,
                    "algorithm_version": ALGORITHM_VERSION,
                },
            )
    return time.perf_counter() - started, share
