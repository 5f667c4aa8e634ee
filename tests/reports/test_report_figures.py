"""Every report checked exactly (external=False) against tables written down by hand.

The data (tests/reports/conftest.py `figures`) lies around the period 2025-01-01–2025-12-31 in
förbund sco (Jonsbo, Backaberg, and the volume insats SIP-samordning):

    enrolment  person      kön    born  insats     start       end         exit reason
    e1         p1 (id.)    kvinna 1990  jonsbo     2024-06-01  2025-03-15  arbete
    e2         p2 (id.)    man    1985  jonsbo     2025-02-01  –
    e3         p3          kvinna 2000  jonsbo     2024-09-01  2026-02-01  studier
    e4         p4          man    1970  jonsbo     2025-03-01  2025-12-31  fortsatt_rehab
    e5         p5          annat  1995  jonsbo     2025-01-01  2025-06-30  arbetssokande
    e6         p6          kvinna 1980  jonsbo     2025-04-01  2025-04-02  felregistrering
    e7a        p7 (id.)    man    1992  jonsbo     2025-05-01  2025-09-30  ohalsa
    e7b        p7          man    1992  backaberg  2025-10-01  –
    e9         p8          kvinna 1975  backaberg  2025-08-15  2025-11-30  avbrott
    e10        p9          kvinna 1998  backaberg  2023-01-10  2024-12-31  arbete
    e11        p10         man    1988  backaberg  2026-01-01  –
    e12        p11         kvinna 1990  jonsbo     2025-07-01  2025-10-15  arbete_subventionerat
    e13        p12         man    1965  backaberg  2025-02-10  2025-05-20  studier
    e14        p13         kvinna 1983  backaberg  2024-11-01  2025-01-01  annat
    e15        p14         kvinna 1991  jonsbo     2025-01-15  2025-08-01  arbete
    e16        p15         man    1987  jonsbo     2025-04-01  2025-06-01  arbete
    e17        p16         kvinna 2007  jonsbo     2025-09-01  –
    ea1        a1 (anon.)  kvinna 1990  jonsbo     2025-03-01  –
    ea2        a2 (anon.)  man    1980  jonsbo     2024-01-01  2025-02-01  flytt
    ea3        a3 (anon.)  man    1980  jonsbo     2025-05-01  2025-05-02  felregistrering
    es         p17 (svo)   kvinna 1990  natursteget 2025-03-01 –

The expected numbers below are counted by hand from this table, not recomputed.
"""

from datetime import date

import numpy as np
import pytest
from django.contrib.auth import get_user_model

from participants.models import Enrolment, ExitReason, InsatsPeriod
from participants.services import participant_create
from progression.models import Classification
from progression.reports import disclosure
from progression.reports.disclosure import Cell
from progression.reports.filters import FilterError, parse_filter, preset_period
from surveys.models import SurveyResponse
from surveys.satisfaction import survey_campaign_update
from tests.reports.helpers import build, enrol, progression_row, query
from tests.surveys.factories import shipped_version

pytestmark = pytest.mark.django_db


def kon(kvinna, man, total):  # noqa: ANN001, ANN201
    """Counts by kön; everyone else (p5, kön annat) is in annat, so the parts add up to the total."""
    return {"kvinna": kvinna, "man": man, "annat": total - kvinna - man, "total": total}


# --- Deltagarflöde ---------------------------------------------------------------------------------


def test_participant_flow_whole_forbund(figures):
    report = build(figures.world.coordinator_sco, "participant-flow")

    assert report.data == {
        # e1 e3 e9 e12 e14 e15 e17 | e2 e4 e7a e7b e13 e16 | + e5 (annat)
        "registrations": kon(7, 6, 14),
        # p7 is in Jonsbo and Backaberg: two registrations, one person
        "unique_persons": kon(7, 5, 13),
        # e9 e12 e15 e17 | e2 e4 e7a e7b e13 e16 | + e5 (started on the first day)
        "started": kon(4, 6, 11),
        # e1 e9 e12 e14 (ended on the first day) e15 | e4 (ended on the last day) e7a e13 e16 | + e5
        "ended": kon(5, 4, 10),
        # e3 (ends after the period) e17 | e2 e7b
        "active_at_end": kon(2, 2, 4),
        # ea1 | ea2; ea3 is a felregistrering
        "anonymous": kon(1, 1, 2),
    }
    assert report.tables[0].rows == [
        ["Inskrivningar under perioden (registreringar)", 7, 6, 1, 14],
        ["Unika personer", 7, 5, 1, 13],
        ["Nya inskrivningar", 4, 6, 1, 11],
        ["Avslutade", 5, 4, 1, 10],
        ["Inskrivna vid periodens slut", 2, 2, 0, 4],
        ["Anonyma deltagares inskrivningar", 1, 1, 0, 2],
    ]


def test_participant_flow_per_insats_registrations_versus_unique_persons(figures):
    user = figures.world.coordinator_sco
    jonsbo = build(user, "participant-flow", insats="jonsbo").data
    backaberg = build(user, "participant-flow", insats="backaberg").data

    assert jonsbo == {
        "registrations": kon(5, 4, 10),
        "unique_persons": kon(5, 4, 10),
        "started": kon(3, 4, 8),
        "ended": kon(3, 3, 7),
        "active_at_end": kon(2, 1, 3),
        "anonymous": kon(1, 1, 2),
    }
    assert backaberg["registrations"] == kon(2, 2, 4)
    assert backaberg["unique_persons"] == kon(2, 2, 4)
    # Registrations add up over the insatser; unique persons do not (p7 is in both).
    both = build(user, "participant-flow", insats=["jonsbo", "backaberg"]).data
    assert both["registrations"] == kon(7, 6, 14)
    assert both["unique_persons"] == kon(7, 5, 13)


def test_felregistrering_counts_nowhere_and_would_count_otherwise(figures):
    user = figures.world.coordinator_sco
    assert build(user, "participant-flow").data["ended"] == kon(5, 4, 10)
    assert build(user, "exits").data["n"] == 10

    Enrolment.objects.filter(pk=figures.e.e6.pk).update(exit_reason=ExitReason.objects.get(code="avbrott"))

    assert build(user, "participant-flow").data["ended"] == kon(6, 4, 11)
    assert build(user, "exits").data["by_reason"]["avbrott"]["kvinna"] == 2


def test_participant_flow_kon_filter(figures):
    report = build(figures.world.coordinator_sco, "participant-flow", kon="kvinna")

    assert report.data == {
        "registrations": kon(7, 0, 7),
        "unique_persons": kon(7, 0, 7),
        "started": kon(4, 0, 4),
        "ended": kon(5, 0, 5),
        "active_at_end": kon(2, 0, 2),
        "anonymous": kon(1, 0, 1),
    }


def test_participant_flow_age_band_filter_uses_age_at_end_of_period(figures):
    # 25–34 at 2025-12-31: born 1991–2000 → p3 (2000), p5 (1995), p7 (1992), p14 (1991); not p1/p11 (1990)
    report = build(figures.world.coordinator_sco, "participant-flow", aldersgrupp="25-34")

    assert report.data == {
        "registrations": kon(2, 2, 5),
        "unique_persons": kon(2, 1, 4),
        "started": kon(1, 2, 4),
        "ended": kon(1, 1, 3),
        "active_at_end": kon(1, 1, 2),
        "anonymous": kon(0, 0, 0),
    }


def test_other_forbund_is_never_counted(figures):
    report = build(figures.world.coordinator_svo, "participant-flow")

    assert report.filters.forbund.code == "svo"
    assert report.data["registrations"] == kon(1, 0, 1)


# --- Avslut ----------------------------------------------------------------------------------------


def reason(label, kvinna, man, total, share):  # noqa: ANN001, ANN201
    return {"label": label, **kon(kvinna, man, total), "share": share}


def test_exits_whole_forbund(figures):
    report = build(figures.world.coordinator_sco, "exits")

    assert report.data == {
        "n": 10,
        "by_reason": {
            "arbete": reason("Arbete (osubventionerat)", 2, 1, 3, 30.0),
            "arbete_subventionerat": reason("Arbete med stöd (t.ex. lönestöd)", 1, 0, 1, 10.0),
            "studier": reason("Studier", 0, 1, 1, 10.0),
            "arbetssokande": reason("Aktivt arbetssökande", 0, 0, 1, 10.0),
            "fortsatt_rehab": reason("Fortsatt rehabilitering / annan aktör", 0, 1, 1, 10.0),
            "ohalsa": reason("Sjukdom / ohälsa", 0, 1, 1, 10.0),
            "avbrott": reason("Avbrott / uteblivit", 1, 0, 1, 10.0),
            "flytt": reason("Flyttat", 0, 0, 0, 0.0),
            "annat": reason("Annat", 1, 0, 1, 10.0),
        },
        "total": kon(5, 4, 10),
        # three insatser in the filter: no target
        "to_work_studies_or_job_seeking": {"count": 6, "n": 10, "share": 60.0, "target": None, "met": None},
        "to_further_rehabilitation": {"count": 1, "n": 10, "share": 10.0, "target": None, "met": None},
    }
    assert "felregistrering" not in report.data["by_reason"]
    assert report.tables[0].rows[-1] == ["Totalt", 5, 4, 1, 10, 100.0]


def test_exits_one_insats_against_its_period_targets(figures):
    report = build(figures.world.coordinator_sco, "exits", insats="jonsbo")

    # e1 e12 e15 | e4 e7a e16 | e5 — work/studies/job seeking: e1 e5 e12 e15 e16 = 5 of 7
    assert report.data["n"] == 7
    assert report.data["total"] == kon(3, 3, 7)
    # 3/7 = 42.857…: shares are rounded by largest remainder so the column sums to exactly 100.0
    assert report.data["by_reason"]["arbete"] == reason("Arbete (osubventionerat)", 2, 1, 3, 42.8)
    assert report.data["by_reason"]["studier"]["total"] == 0
    assert report.data["to_work_studies_or_job_seeking"] == {
        "count": 5,
        "n": 7,
        "share": 71.4,
        "target": 75.0,
        "met": False,
    }
    assert report.data["to_further_rehabilitation"] == {
        "count": 1,
        "n": 7,
        "share": 14.3,
        "target": 10.0,
        "met": True,
    }
    assert report.tables[1].rows[0] == ["Till arbete, studier eller aktivt arbetssökande", 5, 7, 71.4, 75.0, "Nej"]
    assert report.tables[1].rows[1] == ["Till fortsatt rehabilitering", 1, 7, 14.3, 10.0, "Ja"]


def test_exits_target_met_when_share_equals_target(figures):
    InsatsPeriod.objects.filter(insats=figures.world.jonsbo, period_start=date(2025, 1, 1)).update(
        target_work_or_studies_pct=71.4
    )

    work = build(figures.world.coordinator_sco, "exits", insats="jonsbo").data["to_work_studies_or_job_seeking"]

    assert (work["share"], work["target"], work["met"]) == (71.4, 71.4, True)


def test_exits_kon_filter(figures):
    report = build(figures.world.coordinator_sco, "exits", kon="man")

    # e4 fortsatt_rehab, e7a ohalsa, e13 studier, e16 arbete
    assert report.data["n"] == 4
    assert report.data["total"] == kon(0, 4, 4)
    assert {code: row["total"] for code, row in report.data["by_reason"].items() if row["total"]} == {
        "arbete": 1,
        "studier": 1,
        "fortsatt_rehab": 1,
        "ohalsa": 1,
    }
    assert report.data["to_work_studies_or_job_seeking"]["share"] == 50.0


# --- Försörjning före och efter ------------------------------------------------------------------------


def source(label, before, before_share, after, after_share, change, change_pct):  # noqa: ANN001, ANN201
    return {
        "label": label,
        "before": before,
        "before_share": before_share,
        "after": after,
        "after_share": after_share,
        "change": change,
        "change_pct": change_pct,
    }


ZERO_ROWS = {
    "aktivitetsstod": source("Aktivitetsstöd", 0, 0.0, 0, 0.0, 0, None),
    "annan_offentlig": source("Annan offentlig försörjning", 0, 0.0, 0, 0.0, 0, None),
}


def test_income_sources_before_and_after(figures):
    report = build(figures.world.coordinator_sco, "income-sources")

    # before: e1 e7a e9 e14 e15 försörjningsstöd, e12 e16 a-kassa, e13 aktivitetsersättning,
    # e4 sjukersättning, e5 unknown. after: e1 e12 e15 e16 ingen, e9 e14 försörjningsstöd, e5 a-kassa,
    # e4 sjukersättning, e7a sjukpenning, e13 studiemedel.
    assert report.data == {
        "n": 10,
        "sources": {
            "a_kassa": source("A-kassa", 2, 20.0, 1, 10.0, -1, -50.0),
            "aktivitetsersattning": source("Aktivitetsersättning", 1, 10.0, 0, 0.0, -1, -100.0),
            **ZERO_ROWS,
            "forsorjningsstod": source("Försörjningsstöd", 5, 50.0, 2, 20.0, -3, -60.0),
            "ingen_offentlig": source("Ingen offentlig försörjning", 0, 0.0, 4, 40.0, 4, None),
            "sjukersattning": source("Sjukersättning", 1, 10.0, 1, 10.0, 0, 0.0),
            "sjukpenning_rehab": source("Sjukpenning/Rehabpenning", 0, 0.0, 1, 10.0, 1, None),
            "studiemedel": source("Studiestöd/Studiemedel", 0, 0.0, 1, 10.0, 1, None),
            "saknas": source("Uppgift saknas", 1, 10.0, 0, 0.0, -1, -100.0),
        },
    }
    rows = report.data["sources"].values()
    assert sum(row["before_share"] for row in rows) == pytest.approx(100.0)
    assert sum(row["after_share"] for row in rows) == pytest.approx(100.0)
    assert all(row["change"] == row["after"] - row["before"] for row in rows)
    assert report.tables[0].rows[-1] == ["Totalt (n)", 10, 100.0, 10, 100.0, 0, None]


def test_income_sources_per_kon(figures):
    report = build(figures.world.coordinator_sco, "income-sources", per_kon="1")

    kvinna, man = report.data["by_kon"]["kvinna"], report.data["by_kon"]["man"]
    # kvinna: e1 e9 e12 e14 e15
    assert kvinna["n"] == 5
    assert {code: (r["before"], r["after"]) for code, r in kvinna["sources"].items() if r["before"] or r["after"]} == {
        "a_kassa": (1, 0),
        "forsorjningsstod": (4, 2),
        "ingen_offentlig": (0, 3),
    }
    assert kvinna["sources"]["forsorjningsstod"] == source("Försörjningsstöd", 4, 80.0, 2, 40.0, -2, -50.0)
    assert kvinna["sources"]["ingen_offentlig"] == source("Ingen offentlig försörjning", 0, 0.0, 3, 60.0, 3, None)
    # man: e4 e7a e13 e16, one each
    assert man["n"] == 4
    assert {code: (r["before"], r["after"]) for code, r in man["sources"].items() if r["before"] or r["after"]} == {
        "a_kassa": (1, 0),
        "aktivitetsersattning": (1, 0),
        "forsorjningsstod": (1, 0),
        "ingen_offentlig": (0, 1),
        "sjukersattning": (1, 1),
        "sjukpenning_rehab": (0, 1),
        "studiemedel": (0, 1),
    }
    assert man["sources"]["sjukersattning"] == source("Sjukersättning", 1, 25.0, 1, 25.0, 0, 0.0)
    # annat: e5 (before unknown, after a-kassa)
    assert report.data["by_kon"]["annat"]["n"] == 1
    assert report.data["by_kon"]["annat"]["sources"]["a_kassa"]["after"] == 1
    assert [table.title for table in report.tables] == [
        "Huvudsaklig försörjning före och efter insatsen",
        "Kvinnor: försörjning före och efter",
        "Män: försörjning före och efter",
        "Annat/okänt: försörjning före och efter",
    ]
    assert "by_kon" not in build(figures.world.coordinator_sco, "income-sources").data


def test_income_shares_sum_to_exactly_100_with_sevenths(figures):
    report = build(figures.world.coordinator_sco, "income-sources", insats="jonsbo")

    before = {code: row["before"] for code, row in report.data["sources"].items() if row["before"]}
    assert before == {"a_kassa": 2, "forsorjningsstod": 3, "sjukersattning": 1, "saknas": 1}
    assert round(sum(row["before_share"] for row in report.data["sources"].values()), 1) == 100.0


# --- Bakgrund ---------------------------------------------------------------------------------------------


def test_background(figures):
    report = build(figures.world.coordinator_sco, "background")

    assert report.data == {
        # age at inskrivning = start year − birth year
        "age_at_start": {
            "16–19": kon(1, 0, 1),  # e17 (18)
            "20–24": kon(1, 0, 1),  # e3 (24, started 2024)
            "25–29": kon(0, 0, 0),
            "30–39": kon(3, 3, 7),  # e1 34, e12 35, e15 34 | e7a 33, e7b 33, e16 38 | e5 30
            "40–49": kon(1, 1, 2),  # e14 41 | e2 40
            "50–59": kon(1, 1, 2),  # e9 50 | e4 55
            "60–": kon(0, 1, 1),  # e13 60
            "Totalt": kon(7, 6, 14),  # every registration, so a hidden band cannot be worked out
        },
        "education": {
            "Förgymnasial (grundskola eller kortare)": kon(1, 1, 2),
            "Gymnasial": kon(4, 2, 6),
            "Eftergymnasial, kortare än 3 år": kon(0, 2, 2),
            "Eftergymnasial, 3 år eller längre": kon(1, 1, 2),
            "Okänd": kon(1, 0, 1),
            "Uppgift saknas": kon(0, 0, 1),  # e5
            "Totalt": kon(7, 6, 14),
        },
        "years_in_public_support": {
            # kvinna 2.5 0.5 3.5 4.0 7.0 2.2 0.5 = 20.2/7; man 6.0 12.0 1.0 1.5 8.0 0.8 = 29.3/6; all 49.5/13
            "mean": {"kvinna": 2.9, "man": 4.9, "annat": None, "total": 3.8},  # e5's years are unknown
            "n": kon(7, 6, 13),
            "bands": {
                "<1": kon(2, 1, 3),
                "1–2": kon(0, 2, 2),  # 1.0 belongs to 1–2
                "2–3": kon(2, 0, 2),
                "3–5": kon(2, 0, 2),
                "5–10": kon(1, 2, 3),
                ">10": kon(0, 1, 1),
            },
        },
    }
    assert report.tables[2].rows[-1] == ["Medel (år)", 2.9, 4.9, None, 3.8]


# --- Deltagarenkät ---------------------------------------------------------------------------------------------


def question(code, positive, n, asked, rate, share, target, met):  # noqa: ANN001, ANN201
    return {
        "code": code,
        "number": int(code.removeprefix("nns_")),
        "positive": positive,
        "n": n,
        "asked": asked,
        "response_rate": rate,
        "share_positive": share,
        "target": target,
        "met": met,
    }


def test_a_response_rate_never_passes_100_percent_even_with_the_noise_outside(figures, survey_data):
    """Everyone asked answered (8 of 8): inside 100 %; outside the published count of responses
    carries noise and can exceed the number asked: the count shown stops at the number asked, and
    the rate at 100 %."""
    survey_campaign_update(campaign=survey_data, number_asked=8)
    inside = build(figures.world.coordinator_sco, "survey", insats="jonsbo").data["instruments"]["nns-pagaende"]
    assert (inside["responses"], inside["response_rate"]) == (8, 100.0)
    noise_above = 0
    for seed in range(30):
        for number, response in enumerate(SurveyResponse.objects.filter(campaign=survey_data).order_by("pk")):
            SurveyResponse.objects.filter(pk=response.pk).update(record_key=seed * 1009 + number * 7919)
        outside = build(figures.world.coordinator_sco, "survey", external=True, insats="jonsbo")
        survey = outside.data["instruments"]["nns-pagaende"]
        rates = [survey["response_rate"], *(q["response_rate"] for q in survey["questions"])]
        assert all(rate is None or 0 <= rate <= 100 for rate in rates), (seed, survey["responses"], rates)
        assert survey["responses"] <= 8 and all(q["n"] <= 8 for q in survey["questions"])  # never more than asked
        counts = Cell(8, sum(SurveyResponse.objects.filter(campaign=survey_data).values_list("record_key", flat=True)))
        noise_above += disclosure.published_count(counts) > 8
    assert noise_above, "the noise never published more responses than asked: the test would prove nothing"


def test_survey_one_insats_against_targets(figures, survey_data):
    report = build(figures.world.coordinator_sco, "survey", insats="jonsbo")

    survey = report.data["instruments"]["nns-pagaende"]
    assert (survey["asked"], survey["responses"], survey["response_rate"]) == (10, 8, 80.0)
    questions = [{k: v for k, v in q.items() if k != "question"} for q in survey["questions"]]
    assert questions == [
        # 6 5 4 3 1 6 6 (one blank): 5 positive of 7
        question("nns_1", 5, 7, 10, 70.0, 71.4, 75.0, False),
        # 6 6 6 6 5 4 3 2: 6 of 8 — exactly on the target counts as met
        question("nns_2", 6, 8, 10, 80.0, 75.0, 75.0, True),
        question("nns_3", 0, 0, 10, 0.0, None, 75.0, None),
        # Ja ×6, Nej ×1: the contact question has its own target (100 %)
        question("nns_4", 6, 7, 10, 70.0, 85.7, 100.0, False),
        question("nns_5", 0, 0, 10, 0.0, None, 75.0, None),
        question("nns_6", 0, 0, 10, 0.0, None, 75.0, None),
        question("nns_7", 0, 0, 10, 0.0, None, 75.0, None),
    ]
    assert survey["questions"][0]["question"] == "Får du stöd på ett sätt som är till stor nytta för dig?"


def test_survey_over_several_insatser_has_no_target(figures, survey_data):
    report = build(figures.world.coordinator_sco, "survey")

    first = report.data["instruments"]["nns-pagaende"]["questions"][0]
    assert (first["positive"], first["n"], first["target"], first["met"]) == (5, 7, None, None)


# --- Stegförflyttning -------------------------------------------------------------------------------------------


def test_progression(figures, progression_data):
    report = build(figures.world.coordinator_sco, "progression")

    mentor_changes = np.array([-10.0, 20.0])  # e1 50→40, e2 45→65
    self_changes = np.array([20.0, 5.0, 40.0, -10.0, 30.0])  # e1 e2 e3 e12 e15
    basics = ("instrument", "dimension", "perspective", "n", "mean_first", "mean_latest", "mean_change", "d_z")
    shares = ("share_improved", "share_unchanged", "share_worse", "share_mid")
    assert [{name: d[name] for name in (*basics, *shares)} for d in report.data["dimensions"]] == [
        {
            "instrument": "stegvis-progression",
            "dimension": "halsa",
            "perspective": "mentor",
            "n": 2,
            "mean_first": 47.5,
            "mean_latest": 52.5,
            "mean_change": 5.0,
            "d_z": 0.236,
            "share_improved": 50.0,
            "share_unchanged": 0.0,
            "share_worse": 50.0,
            "share_mid": 50.0,
        },
        {
            "instrument": "stegvis-progression",
            "dimension": "halsa",
            "perspective": "self",
            "n": 5,
            "mean_first": 40.0,
            "mean_latest": 57.0,
            "mean_change": 17.0,
            "d_z": 0.855,
            "share_improved": 60.0,
            "share_unchanged": 40.0,
            "share_worse": 0.0,
            "share_mid": 60.0,
        },
    ]
    for row, changes in zip(report.data["dimensions"], (mentor_changes, self_changes), strict=True):
        assert row["d_z"] == pytest.approx(changes.mean() / changes.std(ddof=1), abs=5e-4)
        assert row["mean_change"] == pytest.approx(changes.mean())


def test_progression_of_a_volume_insats_alone_is_empty_not_an_error(figures, progression_data):
    report = build(figures.world.coordinator_sco, "progression", insats="sip-sco")

    assert report.data["dimensions"] == [] and report.data["attrition"] == {}


def test_progression_kon_filter(figures, progression_data):
    report = build(figures.world.coordinator_sco, "progression", kon="kvinna")

    # women: e1 e3 e12 e15 (self), e1 (mentor)
    assert [(d["perspective"], d["n"], d["mean_change"]) for d in report.data["dimensions"]] == [
        ("mentor", 1, -10.0),
        ("self", 4, 20.0),
    ]
    assert report.data["dimensions"][0]["d_z"] is None  # no spread with one person


# --- Volymer ---------------------------------------------------------------------------------------------------


def test_volumes(figures, volume_data):
    report = build(figures.world.coordinator_sco, "volumes")

    assert report.data == {
        "volumes": [
            # 30 (March, kön unknown) + 6 men (Dec 2024–Jan 2025); not 50 in 2026
            {"insats": "SIP-samordning", "category": "Elever", "kvinna": 0, "man": 6, "annat": 30, "total": 36},
            # 12+10 women, 8+7 men, 3 unknown; not the 99 of 2024
            {"insats": "SIP-samordning", "category": "SIP-möten", "kvinna": 22, "man": 15, "annat": 3, "total": 40},
        ]
    }
    assert build(figures.world.coordinator_sco, "volumes", insats="jonsbo").data == {"volumes": []}


# --- Filters ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "year", "expected"),
    [
        ("helar", 2025, (date(2025, 1, 1), date(2025, 12, 31))),
        ("delar", 2025, (date(2025, 1, 1), date(2025, 8, 31))),
        ("tertial1", 2024, (date(2024, 1, 1), date(2024, 4, 30))),
        ("tertial2", 2025, (date(2025, 5, 1), date(2025, 8, 31))),
        ("tertial3", 2025, (date(2025, 9, 1), date(2025, 12, 31))),
        ("halvar1", 2025, (date(2025, 1, 1), date(2025, 6, 30))),
        ("halvar2", 2026, (date(2026, 7, 1), date(2026, 12, 31))),
    ],
)
def test_preset_period(preset, year, expected):
    assert preset_period(preset, year) == expected


def test_preset_period_unknown():
    with pytest.raises(FilterError) as error:
        preset_period("kvartal1", 2025)
    assert error.value.errors == {"period": "Okänd period: kvartal1"}


def test_parse_filter_with_period_preset_and_defaults(world):
    filters = parse_filter(user=world.coordinator_sco, params=query(period="tertial2", ar="2025"), default_year=2026)

    assert (filters.date_from, filters.date_to) == (date(2025, 5, 1), date(2025, 8, 31))
    assert filters.forbund == world.sco
    assert [i.code for i in filters.insatser] == ["backaberg", "jonsbo", "sip-sco"]  # by name
    assert (filters.kon, filters.age_band, filters.by_kon) == ("", "", False)

    defaults = parse_filter(user=world.coordinator_sco, params=query(), default_year=2026)
    assert (defaults.date_from, defaults.date_to) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"from": "2025-13-01"}, {"from": "Datumet måste skrivas ÅÅÅÅ-MM-DD, inte '2025-13-01'."}),
        ({"to": "31/12/2025"}, {"to": "Datumet måste skrivas ÅÅÅÅ-MM-DD, inte '31/12/2025'."}),
        ({"from": "2025-06-01", "to": "2025-05-31"}, {"to": "Periodens slut ligger före dess början."}),
        ({"insats": "finns-inte"}, {"insats": "Okänd insats eller utanför din behörighet: finns-inte"}),
        ({"insats": ["jonsbo", "natursteget"]}, {"insats": "Okänd insats eller utanför din behörighet: natursteget"}),
        ({"forbund": "svo"}, {"forbund": "Okänt förbund eller utanför din behörighet: svo"}),
        ({"period": "helar", "ar": "tjugo"}, {"ar": "Året måste vara ett tal, t.ex. 2026."}),
        ({"period": "vinter"}, {"period": "Okänd period: vinter"}),
        ({"kon": "k"}, {"kon": "Okänt kön: k"}),
        ({"aldersgrupp": "18-30"}, {"aldersgrupp": "Okänd åldersgrupp: 18-30"}),
        (
            {"from": "igår", "kon": "x"},
            {"from": "Datumet måste skrivas ÅÅÅÅ-MM-DD, inte 'igår'.", "kon": "Okänt kön: x"},
        ),
    ],
)
def test_parse_filter_refuses_bad_input_in_swedish(world, params, errors):
    with pytest.raises(FilterError) as error:
        parse_filter(user=world.coordinator_sco, params=query(**params), default_year=2025)

    assert error.value.errors == errors
    assert str(error.value) == "; ".join(errors.values())


def test_insats_of_another_forbund_is_refused_even_for_a_superuser(world):
    superuser = get_user_model().objects.create(username="superuser", is_superuser=True)
    params = query(forbund="sco", insats="natursteget")

    with pytest.raises(FilterError) as error:
        parse_filter(user=superuser, params=params, default_year=2025)

    assert error.value.errors == {"insats": "Okänd insats eller utanför din behörighet: natursteget"}


def test_user_without_report_role_gets_no_scope(world):
    with pytest.raises(FilterError) as error:
        parse_filter(user=world.mentor_jonsbo, params=query(), default_year=2025)

    assert error.value.errors == {"forbund": "Du har ingen behörighet att se rapporter."}


def test_progression_shares_are_of_the_classified_add_up_to_100_and_joint_readings_are_gemensam(world):
    """Rows without a usable norm (för få för att bedöma) are not in the shares' denominator, the
    three classes add up to exactly 100.0 by largest remainder, and `agreed` is "Gemensam"."""
    version = shipped_version("stegvis-progression")
    verdicts = [Classification.IMPROVED] * 1 + [Classification.UNCHANGED] * 1 + [Classification.WORSE] * 1
    verdicts += [Classification.NO_NORM] * 4
    for number, verdict in enumerate(verdicts):
        person = participant_create(forbund=world.sco, kon="kvinna", birth_year=1990)
        enrolment = enrol(person, world.jonsbo, date(2025, 2, 1))
        for perspective in ("self", "agreed"):
            progression_row(enrolment, version, perspective=perspective, first=40, latest=50 + number,
                            latest_on=date(2025, 10, 1), classification=verdict, mid=False)  # fmt: skip
    lines = build(world.coordinator_sco, "progression").data["dimensions"]
    for line in lines:
        assert line["n"] == 7
        assert (line["share_improved"], line["share_unchanged"], line["share_worse"]) == (33.4, 33.3, 33.3)
    table = build(world.coordinator_sco, "progression").tables[0]
    assert {row[1] for row in table.rows} == {"Deltagaren", "Gemensam"}


def test_the_attrition_line_counts_the_enrolled_without_two_readings(world):
    """Enrolled in 2025: one with two self-assessments, one with one, one with none. Only the first
    can be in n; the attrition line shows the other two, and its parts add up to the enrolled."""
    version = shipped_version("stegvis-progression")
    people = [participant_create(forbund=world.sco, kon="kvinna", birth_year=1990) for _ in range(3)]
    two, one, _none = (enrol(person, world.jonsbo, date(2025, 2, 1)) for person in people)
    progression_row(two, version, perspective="self", first=40, latest=60, latest_on=date(2025, 10, 1),
                    classification=Classification.IMPROVED, mid=True)  # fmt: skip
    progression_row(one, version, perspective="self", first=40, latest=40, latest_on=date(2025, 10, 1),
                    classification=Classification.INSUFFICIENT, mid=None, n_readings=1)  # fmt: skip
    report = build(world.coordinator_sco, "progression")
    attrition = report.data["attrition"]
    assert attrition == {"self": {"enrolled": 3, "measured": 1, "measured_before": 0, "fewer_than_two": 2}}
    attrition = next(table for table in report.tables if table.title.startswith("Bortfall"))
    rows = {row[0]: row for row in attrition.rows}
    assert rows["Deltagaren"] == ["Deltagaren", 3, 1, 0, 2, 66.7]  # the parts add up to the enrolled
    assert any("Regression mot medelvärdet" in line for line in report.definitions)
    # A reading after the period's end does not count for it.
    progression_row(one, version, perspective="mentor", first=40, latest=50, latest_on=date(2025, 5, 1),
                    classification=Classification.UNCHANGED, mid=False)  # fmt: skip
    earlier = build(world.coordinator_sco, "progression", **{"from": "2025-01-01", "to": "2025-06-30"})
    assert earlier.data["attrition"] == {
        "mentor": {"enrolled": 3, "measured": 1, "measured_before": 0, "fewer_than_two": 2}
    }
    # Measured in 2025 and still enrolled in 2026 without a reading there: measured only before.
    next_year = build(world.coordinator_sco, "progression", **{"from": "2026-01-01", "to": "2026-12-31"})
    assert next_year.data["attrition"]["self"] == {
        "enrolled": 3,
        "measured": 0,
        "measured_before": 1,
        "fewer_than_two": 2,
    }
