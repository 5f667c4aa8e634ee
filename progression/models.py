"""Derived data: dimension scores, progression (stegförflyttning) with reliable change, the
versioned norms they rest on, insats summaries, and goals with action plans.

Scores, progression and summaries are rebuildable from the readings at any time; each row carries
the algorithm_version that produced it (see progression/scoring.py)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from config.jobs import JobStatus


class SessionScoring(models.Model):
    """Watermark: this session has been scored with this algorithm version."""

    session = models.OneToOneField("surveys.AssessmentSession", on_delete=models.CASCADE, related_name="scoring")
    algorithm_version = models.PositiveSmallIntegerField()
    scored_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"session {self.session_id} v{self.algorithm_version}"


class DimensionScore(models.Model):
    """Mean of a session's answered items in one rating dimension, rescaled to 0–100; null when fewer
    than half of the dimension's items were answered."""

    # No index of its own on the reading: one_score_per_dimension begins with it (db_index on a table
    # of 12.5 M rows at L costs every write, and 4 s of every rebuild's swap).
    session = models.ForeignKey(
        "surveys.AssessmentSession", on_delete=models.CASCADE, related_name="dimension_scores", db_index=False
    )
    dimension = models.ForeignKey("surveys.Dimension", on_delete=models.PROTECT, related_name="+")
    score = models.FloatField(null=True)
    answered = models.PositiveSmallIntegerField()
    items = models.PositiveSmallIntegerField()
    algorithm_version = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "dimension"], name="one_score_per_dimension")]

    def __str__(self) -> str:
        return f"{self.dimension_id}: {self.score}"


class ReliabilitySetting(models.Model):
    """A configured test–retest reliability for a dimension where Cronbach's α cannot be computed
    (fewer than two items), with its source."""

    instrument = models.ForeignKey("surveys.Instrument", on_delete=models.CASCADE, related_name="+")
    dimension_code = models.SlugField("dimension", max_length=60)
    test_retest = models.FloatField(
        "test–retest-reliabilitet", validators=[MinValueValidator(0.0), MaxValueValidator(0.99)]
    )
    source = models.CharField("källa", max_length=300)

    class Meta:
        verbose_name = "konfigurerad reliabilitet"
        verbose_name_plural = "konfigurerade reliabiliteter"
        constraints = [models.UniqueConstraint(fields=["instrument", "dimension_code"], name="one_reliability_setting")]

    def __str__(self) -> str:
        return f"{self.dimension_code}: {self.test_retest}"


class ReliabilitySource(models.TextChoices):
    TEST_RETEST = "test_retest", "Konfigurerad test–retest"
    CRONBACH = "cronbach", "Cronbachs α"
    NONE = "none", "Saknas"


class NormSet(models.Model):
    """One version of the norms reliable change rests on. A new version is an explicit act with a
    reason (progression.norms.norm_set_create), never a side effect of a reading: a participant's
    classification must not shift because someone else was measured. The one exception is logged
    as such: norms.norms_complete adds norms for keys that have none usable yet, copying every
    usable norm unchanged."""

    version = models.PositiveIntegerField("version", unique=True)
    created_at = models.DateTimeField("skapad", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reason = models.CharField("skäl", max_length=500)
    minimum_n = models.PositiveIntegerField("minsta antal baslinjer")
    demo_excluded = models.BooleanField("demodata utelämnad", default=False)
    algorithm_version = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = "normversion"
        verbose_name_plural = "normversioner"
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Normversion {self.version}"


class Norm(models.Model):
    """The norm of one instrument version, dimension and perspective in a norm set: the baselines
    (first readings) it rests on, their mean and SD (SD₀), and the reliability used with its source.
    Usable for reliable change only with at least the set's minimum_n baselines and a reliability."""

    norm_set = models.ForeignKey(NormSet, on_delete=models.CASCADE, related_name="norms")
    version = models.ForeignKey("surveys.InstrumentVersion", on_delete=models.PROTECT, related_name="+")
    dimension_code = models.SlugField(max_length=60)
    perspective = models.CharField(max_length=10)
    n = models.PositiveIntegerField("antal baslinjer")
    baseline_from = models.DateField("första baslinjen")
    baseline_to = models.DateField("senaste baslinjen")
    mean = models.FloatField("medel vid baslinjen")
    sd = models.FloatField("standardavvikelse vid baslinjen (SD₀)", null=True)
    alpha = models.FloatField("Cronbachs α", null=True)
    alpha_n = models.PositiveIntegerField("antal mätningar bakom α", default=0)
    alpha_low = models.FloatField("α, 95 % KI nedre (Feldt)", null=True)
    alpha_high = models.FloatField("α, 95 % KI övre (Feldt)", null=True)
    reliability = models.FloatField("reliabilitet som används", null=True)
    reliability_source = models.CharField(max_length=15, choices=ReliabilitySource.choices)
    reliability_note = models.CharField("reliabilitetens källa", max_length=400)
    usable = models.BooleanField("används för tillförlitlig förändring")

    class Meta:
        verbose_name = "norm"
        verbose_name_plural = "normer"
        constraints = [
            models.UniqueConstraint(
                fields=["norm_set", "version", "dimension_code", "perspective"], name="one_norm_per_key_and_set"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension_code}/{self.perspective} (v{self.norm_set_id})"

    @property
    def sem(self) -> float | None:
        """Standard error of measurement, SD₀·√(1 − r)."""
        if self.sd is None or self.reliability is None:
            return None
        return self.sd * (1 - self.reliability) ** 0.5

    @property
    def threshold(self) -> float | None:
        """The smallest change in points that is reliable: 1.96·√2·SEM (the report's own rule)."""
        from progression.reports.statistics import reliable_change_threshold

        sem = self.sem
        return None if sem is None else reliable_change_threshold(sem * sem)


class Classification(models.TextChoices):
    IMPROVED = "improved", "Tillförlitligt förbättrad"
    UNCHANGED = "unchanged", "Oförändrad"
    WORSE = "worse", "Tillförlitligt försämrad"
    INSUFFICIENT = "insufficient", "För få mätningar"
    NO_NORM = "no_norm", "För få för att bedöma"


class Progression(models.Model):
    """Stegförflyttning for one enrolment, dimension and perspective: first and latest reading,
    the change, and whether it is more than measurement noise (RCI)."""

    # Indexed only where a query or a cascade needs it: one_progression_per_key begins with the
    # enrolment; the instrument, the dimension and the norms are never looked up alone (an index each
    # on 2.9 M rows at L cost every write and seconds of every rebuild's swap).
    enrolment = models.ForeignKey(
        "participants.Enrolment", on_delete=models.CASCADE, related_name="progressions", db_index=False
    )
    instrument = models.ForeignKey("surveys.Instrument", on_delete=models.PROTECT, related_name="+", db_index=False)
    dimension_code = models.SlugField(max_length=60, db_index=False)
    perspective = models.CharField(max_length=10)
    n_readings = models.PositiveIntegerField()
    first_session = models.ForeignKey("surveys.AssessmentSession", on_delete=models.CASCADE, related_name="+")
    latest_session = models.ForeignKey("surveys.AssessmentSession", on_delete=models.CASCADE, related_name="+")
    first_score = models.FloatField()
    latest_score = models.FloatField()
    latest_on = models.DateField()
    # The first reading's day and both readings' instrument versions, which the stegförflyttning
    # report needs (the days between, the stages): stored so that it does not join 250 000 rows to
    # their readings at L. No foreign key or index of their own: the readings hold their versions.
    first_on = models.DateField()
    first_version = models.ForeignKey(
        "surveys.InstrumentVersion", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    latest_version = models.ForeignKey(
        "surveys.InstrumentVersion", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    change = models.FloatField(null=True)
    baseline_sd = models.FloatField(null=True)
    reliability = models.FloatField(null=True)
    rci = models.FloatField(null=True)
    classification = models.CharField(max_length=15, choices=Classification.choices)
    meets_mid = models.BooleanField(null=True)
    # The norm set in force when the row was computed, and the norm of the first reading's instrument
    # version, dimension and perspective in it (None: the set has no norm for that key).
    norm_set = models.ForeignKey(NormSet, on_delete=models.PROTECT, related_name="+", null=True, db_index=False)
    norm = models.ForeignKey(Norm, on_delete=models.PROTECT, related_name="+", null=True, db_index=False)
    algorithm_version = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "instrument", "dimension_code", "perspective"], name="one_progression_per_key"
            )
        ]
        # The stegförflyttning report for a period that the insats summaries cannot answer (a kön or
        # age filter, a part of a year) reads the rows whose latest reading fell in the period.
        indexes = [models.Index(fields=["latest_on"], name="progression_latest_on")]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.dimension_code}/{self.perspective}: {self.change}"


class InsatsSummary(models.Model):
    """Sums over the progressions (≥ 2 readings) of an insats whose latest reading fell in a year,
    per dimension and perspective; reports derive means, d_z and shares from them."""

    insats = models.ForeignKey("participants.Insats", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    instrument = models.ForeignKey("surveys.Instrument", on_delete=models.CASCADE, related_name="+")
    dimension_code = models.SlugField(max_length=60)
    perspective = models.CharField(max_length=10)
    n = models.PositiveIntegerField()
    sum_first = models.FloatField()
    sum_latest = models.FloatField()
    sum_change = models.FloatField()
    sum_change_sq = models.FloatField()
    n_improved = models.PositiveIntegerField()
    n_unchanged = models.PositiveIntegerField()
    n_worse = models.PositiveIntegerField()
    n_mid = models.PositiveIntegerField()
    # Sums of the enrolments' record keys behind n and each count (the cell-key method, for external reports).
    key_n = models.BigIntegerField(default=0)
    key_improved = models.BigIntegerField(default=0)
    key_unchanged = models.BigIntegerField(default=0)
    key_worse = models.BigIntegerField(default=0)
    key_mid = models.BigIntegerField(default=0)
    algorithm_version = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["insats", "year", "instrument", "dimension_code", "perspective"], name="one_summary_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.insats_id} {self.year} {self.dimension_code}/{self.perspective}"


class EnrolmentMonth(models.Model):
    """Counted enrolments (never felregistreringar) per insats, month, event, kön and anonymity,
    kept by PostgreSQL triggers and rebuilt by the rebuild (progression/flow_counts.py). Each event
    (start, end, exit, income) fills the key columns its report groups by; the others are 0, as is
    a value not given."""

    insats = models.ForeignKey(
        "participants.Insats", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    month = models.DateField()  # its first day
    event = models.CharField(max_length=6)  # progression.flow_counts.EVENTS
    kon = models.CharField(max_length=10)
    is_anonymous = models.BooleanField()
    exit_reason_id = models.BigIntegerField()
    income_before_id = models.BigIntegerField()
    income_after_id = models.BigIntegerField()
    n = models.IntegerField()
    key_sum = models.BigIntegerField()  # the enrolments' record keys
    n_single = models.IntegerField()  # enrolments of people with one counted enrolment
    person_key_single = models.BigIntegerField()  # those people's record keys

    class Meta:
        # Writers append rows (a key may have several until the compaction sums them); each report
        # reads the rows of its own events, for some insatser and months.
        indexes = [models.Index(fields=["event", "insats", "month"], name="enrolment_month_reading")]

    def __str__(self) -> str:
        return f"{self.insats_id} {self.month:%Y-%m} {self.event} {self.kon}: {self.n}"


class RepeatEnrolment(models.Model):
    """A counted enrolment of a person with more than one, for the distinct persons of a period
    (progression/flow_counts.py)."""

    enrolment_id = models.BigIntegerField(primary_key=True)
    participant_id = models.BigIntegerField(db_index=True)
    insats_id = models.BigIntegerField()
    start_date = models.DateField()
    end_date = models.DateField(null=True)
    kon = models.CharField(max_length=10)
    is_anonymous = models.BooleanField()
    person_key = models.IntegerField()

    class Meta:
        # A period's people: of some insatser, not ended before its first day.
        indexes = [models.Index(fields=["insats_id", "end_date"], name="repeat_enrolment_reading")]

    def __str__(self) -> str:
        return f"{self.enrolment_id} ({self.participant_id})"


# --- Goals and action plan -------------------------------------------------------------------


class MilestoneStatus(models.TextChoices):
    PLANNED = "planerad", "Planerad"
    ONGOING = "pagar", "Pågår"
    ACHIEVED = "uppnadd", "Uppnådd"
    CHANGED = "andrad", "Ändrad"


class Goal(models.Model):
    """The målbild agreed in a målbildssamtal: where the participant wants to get."""

    enrolment = models.ForeignKey("participants.Enrolment", on_delete=models.CASCADE, related_name="goals")
    text = models.TextField("målbild", max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]


class Milestone(models.Model):
    """A delmål on the way to the målbild."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="milestones")
    text = models.CharField("delmål", max_length=500)
    area = models.SlugField(
        "område", max_length=60, blank=True, help_text="Stegförflyttningsinstrumentets område (dimensionens kod)."
    )
    status = models.CharField(max_length=10, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED)
    target_date = models.DateField("klart senast", null=True, blank=True)
    achieved_on = models.DateField("uppnått", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class ActionPlanStep(models.Model):
    """A step in the handlingsplan: what, who, by when."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="steps")
    what = models.CharField("vad", max_length=500)
    who = models.CharField("vem", max_length=200)
    due_date = models.DateField("när", null=True, blank=True)
    done_on = models.DateField("klart", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.what[:60]


class SavedConversation(models.Model):
    """A målbildssamtal's plan saved from the tablet, once: the device's UUID makes a resend harmless."""

    client_uuid = models.UUIDField(unique=True)
    enrolment = models.ForeignKey("participants.Enrolment", on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField("samtalet hölls")
    saved_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.occurred_at:%Y-%m-%d}"


class PlanEvent(models.Model):
    """History of the målbild, delmål and handlingsplan: every change as an appended line."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="events")
    description = models.CharField(max_length=600)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.description[:60]


class PlanLink(models.Model):
    """Min plan: a personal link that shows the participant their own målbild, delmål, next steps and
    self-assessments on the ladder, without an account (progression/plan.py).

    Only a hash of the token is stored; the token is shown once, to the mentor. At most one link per
    enrolment is in force: a new one revokes the previous. It stops working at avslut, on erasure and
    when the participant withdraws consent, whatever its own state says."""

    token_hash = models.CharField(max_length=64, unique=True)
    enrolment = models.ForeignKey("participants.Enrolment", on_delete=models.CASCADE, related_name="plan_links")
    language = models.CharField("språk", max_length=12)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField("återkallad", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    last_opened_at = models.DateTimeField("senast öppnad", null=True, blank=True)

    class Meta:
        verbose_name = "länk till Min plan"
        verbose_name_plural = "länkar till Min plan"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"], condition=models.Q(revoked_at__isnull=True), name="one_active_plan_link"
            )
        ]

    def __str__(self) -> str:
        return f"Min plan {self.pk} ({'återkallad' if self.revoked_at else 'gäller'})"


class RebuildPhase(models.TextChoices):
    SCORES = "scores", "Poäng"
    REFERENCE = "reference", "Normer"
    PROGRESSION = "progression", "Stegförflyttning"
    SUMMARIES = "summaries", "Sammanställningar"
    DONE = "done", "Klar"
    FAILED = "failed", "Misslyckades"
    SUPERSEDED = "superseded", "Ersatt av en nyare omräkning"


ACTIVE_REBUILD_PHASES = (RebuildPhase.SCORES, RebuildPhase.REFERENCE, RebuildPhase.PROGRESSION, RebuildPhase.SUMMARIES)


class RebuildJob(models.Model):
    """A full rebuild run as chunks on the workers; progress lives here, not in a result backend.

    Each chunk task records itself done (RebuildChunk, once however often it is delivered); the task
    that completes a phase starts the next one. The phase's id bounds are kept, so that a stalled
    phase can be resumed by publishing exactly its missing chunks (progression.rebuild)."""

    phase = models.CharField(max_length=15, choices=RebuildPhase.choices, default=RebuildPhase.SCORES)
    # A new norm set is made before progression is recomputed when a reason is given (the explicit
    # act); otherwise the norm set in force is completed (progression.norms.norms_complete).
    new_norms_reason = models.CharField(max_length=500, blank=True)
    new_norms_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    chunk_size = models.PositiveIntegerField()
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    phase_published = models.BooleanField(default=False)
    phase_low = models.BigIntegerField(null=True, blank=True)
    phase_high = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Run in one process (manage.py rebuild_progression, the embedded default) rather than on the
    # workers: never resumed by rebuild_resume_stalled.
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Omräkning {self.pk}: {self.get_phase_display()} {self.chunks_done}/{self.chunks_total}"


class RebuildChunk(models.Model):
    """A chunk of a rebuild phase that has been done (its first id identifies it in the phase)."""

    job = models.ForeignKey(RebuildJob, on_delete=models.CASCADE, related_name="chunks")
    phase = models.CharField(max_length=15, choices=RebuildPhase.choices)
    first_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "phase", "first_id"], name="one_done_chunk")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.phase} {self.first_id}"


class RebuildCatchUp(models.Model):
    """An enrolment the incremental path processed while a rebuild was writing a derived table beside
    the live one (progression.derived_tables): its rows are derived again into the new table just
    before it is swapped in, so that nothing processed during a rebuild is lost. A plain id, not a
    foreign key: an enrolment erased meanwhile is simply not found."""

    enrolment_id = models.BigIntegerField(unique=True)

    def __str__(self) -> str:
        return str(self.enrolment_id)


ExportStatus = JobStatus  # an export's states are every background job's (config.jobs)


class ExportJob(models.Model):
    """A report export (CSV, XLSX) or PDF report pack made in the background, with its progress.
    The file is kept until expires_at; every download is an access event."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)  # a report name, or "pdf-pack"
    file_format = models.CharField(max_length=5)
    params = models.JSONField()
    external = models.BooleanField("för extern spridning")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the job was last put on the queue; None while the broker has not taken it (it was down).
    published_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.pk} {self.kind}.{self.file_format}"


class ReportText(models.Model):
    """The written parts of the annual-report appendix for an insats and period, edited by coordinators."""

    insats = models.ForeignKey("participants.Insats", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    kontakt = models.TextField("Kontakt", blank=True)
    bakgrund = models.TextField("Bakgrund", blank=True)
    mal = models.TextField("Mål", blank=True)
    syfte = models.TextField("Syfte", blank=True)
    malgrupp = models.TextField("Målgrupp", blank=True)
    maluppfyllelse = models.TextField("Måluppfyllelse", blank=True)
    ekonomiskt_utfall = models.TextField("Ekonomiskt utfall", blank=True)
    framtid = models.TextField("Framtid", blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    updated_at = models.DateTimeField(auto_now=True)

    TEXT_FIELDS = (
        "kontakt",
        "bakgrund",
        "mal",
        "syfte",
        "malgrupp",
        "maluppfyllelse",
        "ekonomiskt_utfall",
        "framtid",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["insats", "period_start", "period_end"], name="one_report_text_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.insats_id} {self.period_start}–{self.period_end}"


class CostParameter(models.Model):
    """Yearly public cost of one helårsekvivalent (a full year at full extent) of an income source,
    for a year and optionally a kommun, with its source. No income source = every benefit type."""

    year = models.PositiveSmallIntegerField("år")
    kommun = models.CharField("kommun", max_length=100, blank=True, help_text="Tomt = gäller alla kommuner.")
    income_source = models.ForeignKey(
        "participants.IncomeSource",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="försörjningskälla",
        help_text="Tomt = alla ersättningsformer (schablon).",
    )
    yearly_cost_sek = models.DecimalField("kostnad per helårsekvivalent (kr)", max_digits=10, decimal_places=0)
    public_share = models.DecimalField(
        "andel som är offentlig kostnad",
        max_digits=3,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="1,00 för en ersättning; för studiemedel bara bidragsdelen (lånet betalas tillbaka).",
    )
    source = models.CharField("källa", max_length=500)

    class Meta:
        verbose_name = "kostnadsparameter"
        verbose_name_plural = "kostnadsparametrar"
        ordering = ["-year", "kommun", "income_source__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "kommun", "income_source"],
                condition=models.Q(income_source__isnull=False),
                name="one_cost_parameter_per_source",
            ),
            models.UniqueConstraint(
                fields=["year", "kommun"], condition=models.Q(income_source__isnull=True), name="one_schablon_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.kommun or 'alla kommuner'} {self.income_source or 'alla'}: {self.yearly_cost_sek} kr"


class ImpactAssumptions(models.Model):
    """How much of a change in public cost a förbund may claim (SROI principles: do not over-claim)."""

    forbund = models.OneToOneField("participants.Forbund", on_delete=models.CASCADE, related_name="impact_assumptions")
    deadweight_pct = models.DecimalField(
        "dödviktsandel %",
        max_digits=5,
        decimal_places=1,
        default=30,
        help_text="Andel av förändringen som hade skett ändå.",
    )
    attribution_pct = models.DecimalField(
        "tillskrivning %",
        max_digits=5,
        decimal_places=1,
        default=50,
        help_text="Andel av resten som kan tillskrivas insatsen (andra aktörer bidrar).",
    )
    dropoff_pct = models.DecimalField(
        "avtagande per år %",
        max_digits=5,
        decimal_places=1,
        default=25,
        help_text="Hur mycket effekten minskar varje år efter det första.",
    )
    discount_rate_pct = models.DecimalField("diskonteringsränta %", max_digits=4, decimal_places=1, default=3)

    class Meta:
        verbose_name = "antaganden för samhällsekonomisk effekt"
        verbose_name_plural = "antaganden för samhällsekonomisk effekt"

    def __str__(self) -> str:
        return f"Antaganden {self.forbund}"


# --- Closed report periods ------------------------------------------------------------------


class ClosureStatus(models.TextChoices):
    FREEZING = "freezing", "Fryses"
    CLOSED = "closed", "Stängd"
    FAILED = "failed", "Misslyckades"
    REOPENED = "reopened", "Öppnad igen"


class PeriodClosure(models.Model):
    """A förbund's report period (a standard period of a year, e.g. helår 2025 for the
    årsredovisning) closed by a coordinator: its reports are frozen as they were computed at closing
    (FrozenReport), with the norm set and algorithm version in force, and the same report gives the
    same figures later whatever readings arrive. Reopening is a förbund admin's action with a reason;
    the frozen reports are kept for the record (progression/reports/periods.py)."""

    forbund = models.ForeignKey("participants.Forbund", on_delete=models.CASCADE, related_name="+")
    date_from = models.DateField()
    date_to = models.DateField()
    label = models.CharField("period", max_length=40)
    status = models.CharField(max_length=10, choices=ClosureStatus.choices, default=ClosureStatus.FREEZING)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(auto_now_add=True)
    norm_set = models.ForeignKey(NormSet, on_delete=models.PROTECT, related_name="+", null=True)
    algorithm_version = models.PositiveSmallIntegerField()
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField("skäl att öppna igen", blank=True)

    class Meta:
        ordering = ["-date_from", "date_to", "-closed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["forbund", "date_from", "date_to"],
                condition=models.Q(status__in=["freezing", "closed"]),
                name="one_closure_per_period",
            ),
            models.CheckConstraint(
                condition=models.Q(date_from__lte=models.F("date_to")), name="closure_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.forbund_id} {self.label} ({self.get_status_display()})"


class FrozenReport(models.Model):
    """One report of a closed period as it was computed at closing: for the whole förbund (insats
    None) or one insats, exact or protected, with or without the per-kön tables."""

    closure = models.ForeignKey(PeriodClosure, on_delete=models.CASCADE, related_name="reports")
    name = models.CharField(max_length=30)
    insats = models.ForeignKey("participants.Insats", on_delete=models.CASCADE, related_name="+", null=True)
    external = models.BooleanField()
    by_kon = models.BooleanField(default=False)
    content = models.JSONField(encoder=DjangoJSONEncoder)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["closure", "name", "insats", "external", "by_kon"],
                name="one_frozen_report_per_variant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.closure_id} {self.name} {self.insats_id or 'förbund'} {'extern' if self.external else 'intern'}"
