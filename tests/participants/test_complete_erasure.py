"""Erasure is complete: after it, the person's name, phone number and personnummer are nowhere in
the database (a full pg_dump) nor on disk, wherever staff had typed them; import files are
encrypted at rest, readable by the server only, and leave the disk after the import, on Avbryt,
after 24 hours, and when a person in them is erased."""

import os
import stat
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from participants.erasure import ERASED, ErasedIdentity, scrub
from participants.models import (
    AccessAction,
    AccessEvent,
    AccessLogReview,
    Consent,
    ConsentChannel,
    ConsentPurpose,
    ImportJob,
)
from participants.services import access_log_review_record, consent_record, identity_read, participant_erase
from participants.tasks import expire_uploads
from participants.uploads import upload_read, upload_store, uploads_expire
from progression.goals import action_step_add, goal_set, milestone_add, milestone_set_status
from progression.models import ActionPlanStep, Goal, Milestone, MilestoneStatus, PlanEvent, ReportText
from tests.factories import (
    EnrolmentFactory,
    confirm_import,
    personnummer_forms,
    register_identified,
    registry_world,
    synthetic_personnummer,
    upload_import,
)
from tests.participants.test_erasure_and_plaintext import assert_no_personnummer, committed, pg_dump

PNR = synthetic_personnummer(date(1984, 3, 9), serial="382")
NAME = "Åsa Raderingsdotter"
PHONE = "070-555 12 34"
# The ways staff write the same phone number in a free text.
PHONE_FORMS = [PHONE, "0705551234", "070-5551234", "+46 70 555 12 34", "+46705551234"]
OTHER_PNR = synthetic_personnummer(date(1991, 6, 2), serial="484")


def import_file(*personnummer: str) -> bytes:
    header = (
        "personnummer;anonym;kon;fodelsear;insats;inskrivningsdatum;avslutsdatum;avslutsanledning;"
        "forsorjning_fore;forsorjning_fore_omfattning;forsorjning_efter;forsorjning_efter_omfattning;"
        "utbildning;ar_i_offentlig_forsorjning;samtycke"
    )
    rows = [f"{pnr};nej;kvinna;;backaberg;2026-02-02;;;forsorjningsstod;1;;;gymnasial;2;ja" for pnr in personnummer]
    return "\n".join([header, *rows]).encode()


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def assert_not_on_disk(root: Path, texts: list[str]) -> None:
    for path in files_under(root):
        content = path.read_bytes()
        for text in texts:
            assert text.encode() not in content, f"{text!r} står i {path}"


@committed
def test_erasure_leaves_the_name_phone_and_personnummer_nowhere(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = registry_world()
    person = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME, contact=PHONE)
    other = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=OTHER_PNR, name="Bo Kvar")
    enrolment = EnrolmentFactory(participant=person, insats=world.jonsbo, mentor=world.mentor_jonsbo)
    other_enrolment = EnrolmentFactory(participant=other, insats=world.jonsbo, mentor=world.mentor_jonsbo)
    mentor = world.mentor_jonsbo

    # Every free text a mentor or admin can type names her, in the ways people write.
    first = goal_set(enrolment=enrolment, text=f"{NAME} vill jobba i köket, ring {PHONE}", by=mentor)
    goal = goal_set(enrolment=enrolment, text=f"Åsa ({PHONE_FORMS[1]}) vill bli kock", by=mentor)
    assert first.pk != goal.pk
    milestone = milestone_add(
        goal=goal, text=f"Raderingsdotter tar körkort, {PHONE_FORMS[3]}", target_date=None, by=mentor
    )
    milestone_set_status(milestone=milestone, status=MilestoneStatus.ONGOING, by=mentor)
    action_step_add(goal=goal, what=f"Ring {NAME} på {PHONE_FORMS[2]}", who=f"{NAME} själv", due_date=None, by=mentor)
    consent_record(
        participant=person,
        purpose=ConsentPurpose.SHARING,
        granted=True,
        recorded_by=mentor,
        channel=ConsentChannel.WRITTEN,
        text_version="2026-1",
        member_authority=f"Försäkringskassan, handläggare för {NAME} {PHONE}",
    )
    # Texts of others that name her: another participant's plan, the report appendix, a volume category.
    other_goal = goal_set(enrolment=other_enrolment, text=f"Bo vill arbeta ihop med {NAME}", by=mentor)
    action_step_add(
        goal=other_goal, what=f"Samordna med {NAME} {PHONE}", who=f"{NAME} (syster)", due_date=None, by=mentor
    )
    ReportText.objects.create(
        insats=world.jonsbo,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        kontakt=f"Kontakt: {NAME} {PHONE}",
        bakgrund=f"Deltagaren {NAME} berättar om skogen.",
    )
    identity_read(user=mentor, participant=person, reason=f"Ringa {NAME} på {PHONE}")
    identity_read(user=mentor, participant=other, reason=f"Bo frågade om {NAME}, {PHONE_FORMS[4]}")
    access_log_review_record(
        by=world.admin_sco,
        forbund=world.sco,
        period_start=timezone.localdate() - timedelta(days=7),
        period_end=timezone.localdate(),
        note=f"Läsningarna av åsa raderingsdotter ({PHONE_FORMS[1]}) var befogade",
    )
    # A preview that was never imported, naming her and someone else.
    client.force_login(world.admin_sco)
    upload = import_file(PNR, OTHER_PNR)
    response = client.post(
        reverse("import_page"),
        {"forbund": "sco", "file": SimpleUploadedFile("lista.csv", upload, "text/csv")},
        follow=True,  # the check runs as the upload commits (this test commits)
    )
    assert "2 rader utan fel" in response.text
    (waiting,) = files_under(tmp_path / "imports")
    assert stat.S_IMODE(waiting.stat().st_mode) == 0o600
    assert_not_on_disk(tmp_path, personnummer_forms(PNR))  # encrypted, not the file as sent

    dump = pg_dump("--data-only")
    assert NAME in dump and PHONE in dump  # the texts were really there

    participant_erase(participant=person, by=world.admin_sco, reason=f"Begäran från {NAME} per telefon {PHONE}")

    dump = pg_dump()
    for text in [NAME, "Raderingsdotter", "raderingsdotter", *PHONE_FORMS, "555 12 34"]:
        assert text not in dump, f"{text!r} finns kvar i databasdumpen efter radering"
    assert_no_personnummer(dump, PNR, "databasdumpen efter radering")
    assert files_under(tmp_path) == []
    # Her own texts became the marker; the other texts kept their other words.
    assert set(Goal.objects.filter(enrolment=enrolment).values_list("text", flat=True)) == {ERASED}
    assert Milestone.objects.get().text == ERASED
    assert ActionPlanStep.objects.filter(what=ERASED, who=ERASED).count() == 1
    assert set(PlanEvent.objects.filter(goal__enrolment=enrolment).values_list("description", flat=True)) == {ERASED}
    assert Consent.objects.get(purpose=ConsentPurpose.SHARING).member_authority == (
        f"Försäkringskassan, handläggare för {ERASED} {ERASED}"
    )
    assert Goal.objects.get(enrolment=other_enrolment).text == f"Bo vill arbeta ihop med {ERASED}"
    step = ActionPlanStep.objects.get(goal__enrolment=other_enrolment)
    assert (step.what, step.who) == (f"Samordna med {ERASED} {ERASED}", f"{ERASED} (syster)")
    text = ReportText.objects.get()
    assert (text.kontakt, text.bakgrund) == (f"Kontakt: {ERASED} {ERASED}", f"Deltagaren {ERASED} berättar om skogen.")
    read_of_other = AccessEvent.objects.get(participant=other, action=AccessAction.VIEW)
    assert read_of_other.reason == f"Bo frågade om {ERASED}, {ERASED}"
    assert AccessLogReview.objects.get().note == f"Läsningarna av {ERASED} ({ERASED}) var befogade"
    erasure = AccessEvent.objects.get(participant=person, action=AccessAction.ERASE)
    assert erasure.reason == f"Begäran från {ERASED} per telefon {ERASED}"
    assert set(
        AccessEvent.objects.filter(participant=person).exclude(pk=erasure.pk).values_list("reason", flat=True)
    ) == {ERASED}
    # The plan's dates and statuses stay: the history of what happened, without the words.
    assert Milestone.objects.get().status == MilestoneStatus.ONGOING
    assert (
        PlanEvent.objects.filter(goal__enrolment=enrolment).count() == 5
    )  # two målbilder, a delmål, its status, a step


@pytest.mark.django_db
def test_an_upload_naming_someone_else_only_stays_when_another_person_is_erased(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = registry_world()
    person = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME)
    token_other = upload_store(forbund=world.sco, content=import_file(OTHER_PNR))
    token_in_svo = upload_store(forbund=world.svo, content=import_file(PNR))
    token_hers = upload_store(forbund=world.sco, content=import_file(OTHER_PNR, PNR))

    participant_erase(participant=person, by=world.admin_sco, reason="Begäran")

    assert upload_read(forbund=world.sco, token=token_hers) is None
    assert upload_read(forbund=world.sco, token=token_other) == import_file(OTHER_PNR)
    # Her registration in another förbund is that förbund's (erasure is per förbund).
    assert upload_read(forbund=world.svo, token=token_in_svo) == import_file(PNR)


@pytest.mark.django_db
def test_uploads_expire_after_a_day_and_the_periodic_task_runs_it(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = registry_world()
    old = upload_store(forbund=world.sco, content=import_file(PNR))
    fresh = upload_store(forbund=world.sco, content=import_file(PNR))
    day_ago = time.time() - 24 * 3600 - 60
    os.utime(tmp_path / "imports" / f"{world.sco.pk}-{old}.upload", (day_ago, day_ago))

    assert expire_uploads.delay().get() == 1
    assert upload_read(forbund=world.sco, token=old) is None
    assert upload_read(forbund=world.sco, token=fresh) == import_file(PNR)
    assert uploads_expire(now=timezone.now() + timedelta(hours=25)) == 1
    assert "participants.tasks.expire_uploads" in {job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()}


@pytest.mark.django_db
def test_cancel_deletes_the_waiting_upload_and_the_import_deletes_it_too(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    world = registry_world()
    client.force_login(world.admin_sco)
    checked = upload_import(client, django_capture_on_commit_callbacks, import_file(PNR), name="lista.csv")
    assert "Filen är granskad: 1 rad utan fel." in checked.text
    assert len(files_under(tmp_path / "imports")) == 1
    page = client.post(checked.wsgi_request.path, {"action": "cancel"}, follow=True)
    assert "Importen är avbruten och den uppladdade filen raderad." in page.text
    assert files_under(tmp_path / "imports") == [] and not ImportJob.objects.exists()
    # Importera after Avbryt finds nothing to import.
    assert client.post(checked.wsgi_request.path, {"action": "import"}).status_code == 404

    checked = upload_import(client, django_capture_on_commit_callbacks, import_file(PNR), name="lista.csv")
    page = confirm_import(client, django_capture_on_commit_callbacks, checked)
    assert "Importen är klar." in page.text
    assert files_under(tmp_path / "imports") == []


@pytest.mark.django_db
def test_a_token_from_elsewhere_never_names_a_file_outside_the_upload_directory(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = registry_world()
    with pytest.raises(ValueError):
        upload_read(forbund=world.sco, token="../../etc/passwd")


@pytest.mark.parametrize(
    "text",
    [
        "Ring Åsa Raderingsdotter",
        "ÅSA RADERINGSDOTTER ringde",
        "tel 0705551234",
        "tel 070 555 12 34",
        "tel +46 (0)70-555 12 34",
        *(f"pnr {form}" for form in personnummer_forms(PNR)),
    ],
)
def test_the_identity_pattern_finds_the_ways_people_write_it(text):
    identity = ErasedIdentity(name=NAME, contact=PHONE, personnummer=PNR.replace("-", ""))
    scrubbed = scrub(text, identity.pattern())
    assert ERASED in scrubbed
    for word in ["Raderingsdotter", "RADERINGSDOTTER", "555", PNR[-4:]]:
        assert word not in scrubbed


def test_short_name_parts_and_other_words_stay():
    identity = ErasedIdentity(name="Li Åsaberg", contact="", personnummer=PNR.replace("-", ""))
    assert scrub("Li ringde om Åsabergskaféet", identity.pattern()) == "Li ringde om Åsabergskaféet"
    assert scrub("Åsaberg ringde", identity.pattern()) == f"{ERASED} ringde"


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("Ring Wilmas mamma", f"Ring {ERASED} mamma"),  # the genitive is the name, as staff write it
        ("Wilma Testssons kontakt", f"{ERASED} {ERASED} kontakt"),
        ("Testsson:s bil och Wilma' väska", f"{ERASED} bil och {ERASED} väska"),
        ("Wilma_Testsson", f"{ERASED}_{ERASED}"),
        ("wilma.testsson@example.org", f"{ERASED}.{ERASED}@example.org"),
        ("Wilmahuset och Testssonskolan", "Wilmahuset och Testssonskolan"),  # other words stay
    ],
)
def test_the_name_in_the_genitive_or_joined_by_underscores_is_found_but_other_words_stay(text, scrubbed):
    """The outside re-check: "Ring Wilmas mamma" kept the name after an erasure."""
    identity = ErasedIdentity(name="Wilma Testsson", contact="", personnummer=PNR.replace("-", ""))
    assert scrub(text, identity.pattern()) == scrubbed
