"""The registry: organisations, insatser, staff roles, pseudonymous participants, enrolments.

No name or personnummer is stored in any model of this module except the identity vault.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from config.jobs import JobStatus

# Record keys for the cell-key method (progression/reports/disclosure.py): every counted row gets a
# random integer in [0, RECORD_KEY_SPACE) once, and a published count depends on the sum of its rows'
# keys, so the same rows always give the same published number.
RECORD_KEY_SPACE = 2**31


def record_key_new() -> int:
    return secrets.randbelow(RECORD_KEY_SPACE)


class RandomRecordKey(models.Func):
    """The database's own random record key, for rows inserted outside the ORM (bulk loads, COPY)."""

    output_field = models.IntegerField()
    template = "CAST(floor(random() * 2147483648) AS integer)"

    def as_sqlite(self, compiler: object, connection: object, **extra_context: object) -> tuple[str, list]:
        return "(random() & 2147483647)", []


def record_key_field() -> models.IntegerField:
    return models.IntegerField(
        "postnyckel",
        default=record_key_new,
        db_default=RandomRecordKey(),
        editable=False,
        help_text="Slumptal för skyddet av externa rapporter (cell-key-metoden); visas aldrig.",
    )


class Forbund(models.Model):
    """A samordningsförbund: the customer organisation."""

    code = models.SlugField("kod", max_length=40, unique=True)
    name = models.CharField("namn", max_length=200)
    pseudonym_prefix = models.CharField(
        "pseudonymprefix", max_length=4, help_text="T.ex. SCÖ; inleder deltagarnas pseudonymer."
    )
    identity_retention_years = models.PositiveSmallIntegerField(
        "år innan identitetsuppgifter raderas efter avslut", default=2
    )
    progression_withdrawal_policy = models.CharField(
        "när samtycke till stegförflyttningsmätning återkallas",
        max_length=20,
        choices=[("anonymise", "Behåll mätningarna anonymiserade"), ("delete", "Radera mätningarna")],
        default="anonymise",
    )

    class Meta:
        verbose_name = "samordningsförbund"
        verbose_name_plural = "samordningsförbund"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InsatsCategory(models.TextChoices):
    """Sub-kinds as förbund categorise insatser (domain/codes.md)."""

    FOREBYGGANDE = "forebyggande", "Förebyggande"
    FORBEREDANDE = "forberedande", "Förberedande"
    REHAB_ARBETE_UTBILDNING = "rehab_arbete_utbildning", "Rehabilitering mot arbete/utbildning"
    KARTLAGGNING = "kartlaggning", "Kartläggning"
    ANNAN = "annan", "Annan individinriktad"
    UTBILDNING_PERSONAL = "utbildning_personal", "Utbildning av personal"
    DIALOG_KOMMUNIKATION = "dialog_kommunikation", "Dialog och kommunikation"


STRUCTURAL_CATEGORIES = {InsatsCategory.UTBILDNING_PERSONAL, InsatsCategory.DIALOG_KOMMUNIKATION}


class InsatsKind(models.TextChoices):
    INDIVIDINRIKTAD = "individinriktad", "Individinriktad"
    STRUKTUROVERGRIPANDE = "strukturovergripande", "Strukturövergripande"


class MeasurementMode(models.TextChoices):
    PER_PERSON = "per_person", "Per person"
    VOLUME = "volume", "Endast volym"


class Insats(models.Model):
    """An intervention funded by a förbund."""

    forbund = models.ForeignKey(Forbund, on_delete=models.PROTECT, related_name="insatser")
    code = models.SlugField("kod", max_length=40, unique=True)
    name = models.CharField("namn", max_length=200)
    category = models.CharField("kategori", max_length=40, choices=InsatsCategory.choices)
    measurement_mode = models.CharField(
        "mätsätt", max_length=20, choices=MeasurementMode.choices, default=MeasurementMode.PER_PERSON
    )
    capacity = models.PositiveIntegerField("antal platser", null=True, blank=True)
    kommun = models.CharField(
        "kommun", max_length=100, blank=True, help_text="Väljer kommunens kostnadsparametrar när sådana finns."
    )
    active = models.BooleanField("aktiv", default=True)
    reading_interval_weeks = models.PositiveSmallIntegerField(
        "mätrytm (veckor)",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Hur ofta ett målbildssamtal med mätning görs. Mina deltagare visar vem som står på tur.",
    )

    class Meta:
        verbose_name = "insats"
        verbose_name_plural = "insatser"
        ordering = ["forbund__name", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        """Individinriktad or strukturövergripande, derived from the category."""
        if self.category in STRUCTURAL_CATEGORIES:
            return InsatsKind.STRUKTUROVERGRIPANDE
        return InsatsKind.INDIVIDINRIKTAD

    def get_kind_display(self) -> str:
        return InsatsKind(self.kind).label


def _share_field(label: str, default: str | None = None) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=2,
        null=default is None,
        blank=True,
        default=Decimal(default) if default is not None else None,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Procent, 0–100.",
    )


class InsatsPeriod(models.Model):
    """Targets and cost for one insats over one period (usually a calendar year)."""

    insats = models.ForeignKey(Insats, on_delete=models.CASCADE, related_name="periods")
    period_start = models.DateField("från")
    period_end = models.DateField("till")
    target_work_or_studies_pct = _share_field("mål: andel till arbete, studier eller arbetssökande")
    target_further_rehab_pct = _share_field("mål: andel till fortsatt rehabilitering")
    target_survey_positive_pct = _share_field("mål: andel positiva svar (fråga 1–3, 5–7)", "75")
    target_survey_contact_pct = _share_field("mål: andel med kontaktperson (fråga 4)", "100")
    target_volume = models.PositiveIntegerField("mål: volym", null=True, blank=True)
    cost_sek = models.DecimalField("kostnad (kr)", max_digits=12, decimal_places=0, null=True, blank=True)

    class Meta:
        verbose_name = "period med mål och kostnad"
        verbose_name_plural = "perioder med mål och kostnad"
        ordering = ["insats", "-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="period_end_after_start"
            ),
            models.UniqueConstraint(fields=["insats", "period_start", "period_end"], name="unique_insats_period"),
        ]

    def __str__(self) -> str:
        return f"{self.insats} {self.period_start}–{self.period_end}"


class Role(models.TextChoices):
    MENTOR = "mentor", "Handledare"
    COORDINATOR = "coordinator", "Samordnare"
    ADMIN = "admin", "Administratör"


class Membership(models.Model):
    """A user's role in one förbund (covers all its insatser) or in one insats."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name="användare"
    )
    role = models.CharField("roll", max_length=20, choices=Role.choices)
    forbund = models.ForeignKey(
        Forbund,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name="förbund",
        help_text="Rollen gäller i hela förbundet. Välj förbund eller insats.",
    )
    insats = models.ForeignKey(
        Insats,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name="insats",
        help_text="Rollen gäller bara i insatsen.",
    )
    can_read_identity = models.BooleanField(
        "får läsa identitetsuppgifter",
        default=False,
        help_text="Handledare läser identitet för sina deltagare; andra roller bara om detta är ikryssat.",
    )

    class Meta:
        verbose_name = "behörighet"
        verbose_name_plural = "behörigheter"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(forbund__isnull=False, insats__isnull=True) | Q(forbund__isnull=True, insats__isnull=False)
                ),
                name="membership_exactly_one_scope",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "forbund"], condition=Q(forbund__isnull=False), name="unique_forbund_membership"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "insats"], condition=Q(insats__isnull=False), name="unique_insats_membership"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.forbund or self.insats}"


EXTENT_CHOICES = [
    (Decimal("1.00"), "Heltid"),
    (Decimal("0.75"), "75 %"),
    (Decimal("0.50"), "50 %"),
    (Decimal("0.25"), "25 %"),
]


class CodeList(models.Model):
    """An editable reference code list row (domain/codes.md); `code` is stable for exports and the API."""

    code = models.SlugField("kod", max_length=40, unique=True)
    label_sv = models.CharField("benämning", max_length=200)
    label_en = models.CharField("benämning (engelska)", max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField("ordning", default=0)
    active = models.BooleanField("aktiv", default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.label_sv


class Payer(models.TextChoices):
    KOMMUN = "kommun", "Kommun"
    FORSAKRINGSKASSAN = "forsakringskassan", "Försäkringskassan"
    ARBETSFORMEDLINGEN = "arbetsformedlingen", "Staten/Arbetsförmedlingen"
    A_KASSA = "a_kassa", "Arbetslöshetskassa/staten"
    CSN = "csn", "CSN"
    ANNAN = "annan", "Annan"
    INGEN = "ingen", "Ingen"


class IncomeSource(CodeList):
    """Försörjningskälla."""

    payer = models.CharField("betalare", max_length=30, choices=Payer.choices)

    class Meta(CodeList.Meta):
        verbose_name = "försörjningskälla"
        verbose_name_plural = "försörjningskällor"


class ExitReason(CodeList):
    """Avslutsanledning."""

    counts_as_work_or_studies = models.BooleanField("räknas som arbete, studier eller arbetssökande", default=False)
    counts_as_further_rehab = models.BooleanField("räknas som fortsatt rehabilitering", default=False)
    excluded_from_reports = models.BooleanField("utesluts ur alla rapporter (felregistrering)", default=False)

    class Meta(CodeList.Meta):
        verbose_name = "avslutsanledning"
        verbose_name_plural = "avslutsanledningar"


class EducationLevel(CodeList):
    """Högsta avslutade utbildning."""

    class Meta(CodeList.Meta):
        verbose_name = "utbildningsnivå"
        verbose_name_plural = "utbildningsnivåer"


class Kon(models.TextChoices):
    KVINNA = "kvinna", "Kvinna"
    MAN = "man", "Man"
    ANNAT = "annat", "Annat"
    OKANT = "okant", "Okänt"


class Participant(models.Model):
    """A person in one förbund, known only by a random pseudonym. Identity lives in the vault."""

    forbund = models.ForeignKey(Forbund, on_delete=models.PROTECT, related_name="participants")
    pseudonym = models.CharField("pseudonym", max_length=20, unique=True)
    kon = models.CharField("kön", max_length=10, choices=Kon.choices)
    birth_year = models.PositiveSmallIntegerField(
        "födelseår", validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    is_anonymous = models.BooleanField(
        "anonym", default=False, help_text="Utan samtycke eller med skyddade personuppgifter: aldrig identifierbar."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    identity_erased_at = models.DateTimeField("identitet raderad", null=True, blank=True)
    record_key = record_key_field()
    # Made by seed_demo: left out of the norms as soon as there are readings of real participants.
    is_demo = models.BooleanField("demodata", default=False, db_default=False)

    class Meta:
        verbose_name = "deltagare"
        verbose_name_plural = "deltagare"
        ordering = ["pseudonym"]

    def __str__(self) -> str:
        return self.pseudonym


class Enrolment(models.Model):
    """One participant's time in one insats, from inskrivning to avslut."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="enrolments")
    insats = models.ForeignKey(Insats, on_delete=models.PROTECT, related_name="enrolments")
    start_date = models.DateField("inskrivningsdatum")
    end_date = models.DateField("avslutsdatum", null=True, blank=True)
    income_before = models.ForeignKey(
        "IncomeSource",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="försörjning före",
        null=True,
        blank=True,
    )
    income_before_extent = models.DecimalField(
        "omfattning före", max_digits=3, decimal_places=2, choices=EXTENT_CHOICES, default=Decimal("1")
    )
    education = models.ForeignKey(
        "EducationLevel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="högsta utbildning",
        null=True,
        blank=True,
    )
    years_in_public_support = models.DecimalField(
        "år i offentlig försörjning före",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(60))],
    )
    exit_reason = models.ForeignKey(
        "ExitReason", on_delete=models.PROTECT, related_name="+", verbose_name="avslutsanledning", null=True, blank=True
    )
    income_after = models.ForeignKey(
        "IncomeSource",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="försörjning efter",
        null=True,
        blank=True,
    )
    income_after_extent = models.DecimalField(
        "omfattning efter", max_digits=3, decimal_places=2, choices=EXTENT_CHOICES, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    import_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="Identifies the imported row so that importing the same file again changes nothing.",
    )
    record_key = record_key_field()

    class Meta:
        verbose_name = "inskrivning"
        verbose_name_plural = "inskrivningar"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrolment_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(exit_reason__isnull=False),
                name="closed_enrolment_has_exit_reason",
            ),
            models.UniqueConstraint(
                fields=["participant", "insats"],
                condition=Q(end_date__isnull=True),
                name="one_open_enrolment_per_insats",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} i {self.insats}"

    @property
    def is_open(self) -> bool:
        return self.end_date is None


class MentorAssignment(models.Model):
    """Who was the participant's mentor in an enrolment, and when. Each change is an indicator."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="mentor_assignments")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mentor_assignments")
    start_date = models.DateField("från")
    end_date = models.DateField("till", null=True, blank=True)

    class Meta:
        verbose_name = "handledartilldelning"
        verbose_name_plural = "handledartilldelningar"
        ordering = ["enrolment", "start_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"], condition=Q(end_date__isnull=True), name="one_current_mentor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} {self.start_date}–{self.end_date or ''}"


class IdentityRecord(models.Model):
    """The identity vault: personnummer, name and contact, encrypted; found again by pnr_index only."""

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="identity")
    forbund = models.ForeignKey(Forbund, on_delete=models.PROTECT, related_name="+")
    pnr_index = models.CharField(max_length=64)
    personnummer_encrypted = models.TextField()
    name_encrypted = models.TextField()
    contact_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["forbund", "pnr_index"], name="one_person_per_forbund"),
        ]

    def __str__(self) -> str:
        return f"Identitet för {self.participant_id}"


class ConsentPurpose(models.TextChoices):
    REGISTRATION = "registration", "Registrering och uppföljning"
    PROGRESSION = "progression", "Mätning av stegförflyttning"
    SHARING = "sharing", "Delning med namngiven medlemsmyndighet"
    RESEARCH = "research", "Forskning och utvärdering"
    # Sammanhållen journalföring's model: a mentor sees the person's other insatser only with this.
    INSATS_SHARING = "insats_sharing", "Delning mellan förbundets insatser"


class ConsentChannel(models.TextChoices):
    WRITTEN = "written", "Skriftligt"
    VERBAL = "verbal", "Muntligt"
    DIGITAL = "digital", "Digitalt"


class Consent(models.Model):
    """One consent event: given or withdrawn. Append-only; the latest per purpose is in force."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField("ändamål", max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField("samtycke givet")
    member_authority = models.CharField("medlemsmyndighet", max_length=200, blank=True)
    text_version = models.CharField("version av samtyckestexten", max_length=40)
    channel = models.CharField("hur", max_length=10, choices=ConsentChannel.choices)
    guardian_consent = models.BooleanField("vårdnadshavares samtycke", default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "samtycke"
        verbose_name_plural = "samtycken"
        ordering = ["participant", "purpose", "recorded_at", "id"]
        indexes = [models.Index(fields=["participant", "purpose", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {'ja' if self.granted else 'återkallat'}"


def consent_granted_subquery(*, purpose: str, participant_ref: str = "participant_id") -> Coalesce:
    """Whether the consent in force (the latest record) for the purpose grants it, as an expression
    over the outer rows' participant in `participant_ref`: one query for many rows."""
    latest = (
        Consent.objects.filter(participant=OuterRef(participant_ref), purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values("granted")[:1]
    )
    return Coalesce(Subquery(latest), Value(False))


class VolumeRegistration(models.Model):
    """Head counts for a volume-only insats: count per period and category (kön where known)."""

    insats = models.ForeignKey(Insats, on_delete=models.PROTECT, related_name="volume_registrations")
    period_start = models.DateField("från")
    period_end = models.DateField("till")
    category = models.CharField("kategori", max_length=100, help_text="T.ex. SIP-möten, elever, deltagare i gruppen.")
    kon = models.CharField("kön", max_length=10, choices=Kon.choices, blank=True)
    count = models.PositiveIntegerField("antal")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    record_key = record_key_field()

    class Meta:
        verbose_name = "volymregistrering"
        verbose_name_plural = "volymregistreringar"
        ordering = ["insats", "-period_start", "category"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="volume_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.insats} {self.category}: {self.count}"


class AccessAction(models.TextChoices):
    VIEW = "view", "Visade identitet"
    SEARCH_HIT = "search_hit", "Träff vid sökning på personnummer"
    ENROL_EXISTING = "enrol_existing", "Skrev in befintlig deltagare"
    SHARING_CONSENT = "sharing_consent", "Samtycke till delning mellan insatser"
    ROLE_CHANGE = "role_change", "Ändrade en behörighet"
    EXPORT = "export", "Export"
    RECTIFY = "rectify", "Rättelse"
    ERASE = "erase", "Radering"


class AccessEvent(models.Model):
    """Who read, exported or changed which person's identity data, when and why. Append-only.

    `forbund` places every event, exports of whole reports included, in the log its admins review."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    forbund = models.ForeignKey(Forbund, on_delete=models.PROTECT, null=True, related_name="+")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, null=True, related_name="access_events")
    action = models.CharField("händelse", max_length=20, choices=AccessAction.choices)
    reason = models.CharField("anledning", max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "åtkomsthändelse"
        verbose_name_plural = "åtkomstlogg"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["forbund", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"


class ApiKey(models.Model):
    """A personal API key, stored as its SHA-256 only. It expires, and it stops working when its
    user's roles change (`roles_fingerprint` no longer matches): a key never carries a role the user
    did not hold, and pass two-factor login with, when it was made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("början av nyckeln", max_length=8)
    roles_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("gäller till")
    last_used_at = models.DateTimeField("senast använd", null=True, blank=True)

    class Meta:
        verbose_name = "API-nyckel"
        verbose_name_plural = "API-nycklar"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AccessLogReview(models.Model):
    """A förbund admin's record that they went through the access log for a period."""

    forbund = models.ForeignKey(Forbund, on_delete=models.PROTECT, related_name="access_log_reviews")
    period_start = models.DateField("från")
    period_end = models.DateField("till")
    note = models.CharField("anteckning", max_length=500, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "granskning av åtkomstloggen"
        verbose_name_plural = "granskningar av åtkomstloggen"
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="review_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.forbund} {self.period_start}–{self.period_end}"


class StaffPreference(models.Model):
    """What a staff user chose for themselves: the language of their pages (Swedish unless English)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="staff_preference"
    )
    language = models.CharField("språk", max_length=8, choices=[("sv", "Svenska"), ("en", "English")], default="sv")

    class Meta:
        verbose_name = "personlig inställning"
        verbose_name_plural = "personliga inställningar"

    def __str__(self) -> str:
        return f"{self.user}: {self.get_language_display()}"


class ImportJob(models.Model):
    """An import file checked (dry_run) and, once the user confirms, imported, in the background with
    its progress (participants.import_jobs). The file waits encrypted in participants.uploads under
    upload_token; the job and its file are deleted a day after the upload."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    forbund = models.ForeignKey(Forbund, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField("filnamn", max_length=200, blank=True)
    upload_token = models.CharField(max_length=32)
    dry_run = models.BooleanField("granskning", default=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    # What the check or the import found: its counts and its first row errors (import_jobs.result_dict).
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the job was last put on the queue; None while the broker has not taken it (it was down).
    published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} {self.file_name}"
