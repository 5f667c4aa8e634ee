"""Instruments: versioned definitions of the questions a session asks and the scales it answers on.

An InstrumentVersion pins everything a session needs to present a form and validate answers:
its scales, dimensions and items. Once published it is never changed; a changed definition
becomes a new version (see services.instrument_load). Writes go through surveys.services only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.languages import PARTICIPANT_LANGUAGES
from participants.models import record_key_field

# Languages an instrument text may have (config/languages.py). Swedish is required; the others fall back to it.
LANGUAGES = tuple(language.key for language in PARTICIPANT_LANGUAGES)
PROGRESSION_INSTRUMENT = "stegvis-progression"  # the instrument of the målbildssamtal
DEFAULT_LANGUAGE = "sv"


class InstrumentPurpose(models.TextChoices):
    PROGRESSION = "progression", "Stegförflyttning"
    SATISFACTION = "satisfaction", "Deltagarenkät (pågående)"
    EXIT_SURVEY = "exit_survey", "Deltagarenkät (avslut)"


class Perspective(models.TextChoices):
    """Who answers: the participant, the mentor, or both together after the målbildssamtal."""

    SELF = "self", "Självskattning"
    MENTOR = "mentor", "Handledarens bedömning"
    AGREED = "agreed", "Gemensam bedömning"


class AppliesTo(models.TextChoices):
    """The perspectives an item is asked in; `agreed` readings use the items asked in both."""

    SELF = "self", "Deltagaren"
    MENTOR = "mentor", "Handledaren"
    BOTH = "both", "Båda"


# Which items each perspective is asked, and whose wording it reads. An agreed reading rates the
# items both parties rated, in the participant's own words: it is their goal conversation.
ITEMS_ASKED_IN: dict[str, tuple[str, ...]] = {
    Perspective.SELF: (AppliesTo.SELF, AppliesTo.BOTH),
    Perspective.MENTOR: (AppliesTo.MENTOR, AppliesTo.BOTH),
    Perspective.AGREED: (AppliesTo.BOTH,),
}
WORDING_FOR: dict[str, str] = {
    Perspective.SELF: AppliesTo.SELF,
    Perspective.MENTOR: AppliesTo.MENTOR,
    Perspective.AGREED: AppliesTo.SELF,
}


class Instrument(models.Model):
    """A questionnaire known by a stable code, e.g. stegvis-progression or nns-pagaende."""

    code = models.SlugField("kod", max_length=60, unique=True)
    name = models.CharField("namn", max_length=200)
    purpose = models.CharField("syfte", max_length=20, choices=InstrumentPurpose.choices)

    class Meta:
        verbose_name = "instrument"
        verbose_name_plural = "instrument"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Utkast"
    PUBLISHED = "published", "Publicerad"


class InstrumentVersion(models.Model):
    """One immutable edition of an instrument; sessions point at a version, never at the instrument."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("version")
    content_hash = models.CharField(
        "innehållshash", max_length=64, help_text="SHA-256 av den kanoniska definitionen (skalor, dimensioner, frågor)."
    )
    status = models.CharField("status", max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    published_at = models.DateTimeField("publicerad", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "instrumentversion"
        verbose_name_plural = "instrumentversioner"
        ordering = ["instrument__code", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="unique_instrument_version_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="instrument_version_number_positive"),
            models.CheckConstraint(
                condition=(
                    Q(status=VersionStatus.PUBLISHED, published_at__isnull=False)
                    | Q(status=VersionStatus.DRAFT, published_at__isnull=True)
                ),
                name="instrument_version_published_at_iff_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.code} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class ScaleKind(models.TextChoices):
    LADDER = "ladder", "Stege med steg"
    CHOICE = "choice", "Ordnade svarsalternativ"
    YES_NO = "yes_no", "Ja/nej"
    NUMBER = "number", "Tal"


class Scale(models.Model):
    """How an item is answered, pinned per version. Every answer value is an integer.

    ladder: min_value..max_value with labelled `stages` [{"from", "to", "label"}];
    choice and yes_no: `options` [{"value", "label", "positive"}, optionally "pictogram": {"file", "alt"}];
    number: min_value..max_value with an optional `unit` label.
    Labels are {language: text}.
    """

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="scales")
    code = models.SlugField("kod", max_length=60)
    kind = models.CharField("typ", max_length=20, choices=ScaleKind.choices)
    min_value = models.IntegerField("lägsta värde", null=True, blank=True)
    max_value = models.IntegerField("högsta värde", null=True, blank=True)
    unit = models.JSONField("enhet", default=dict, blank=True)
    stages = models.JSONField("steg", default=list, blank=True)
    options = models.JSONField("svarsalternativ", default=list, blank=True)

    class Meta:
        verbose_name = "skala"
        verbose_name_plural = "skalor"
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_scale_code_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_kind_display()})"

    def bounds(self) -> tuple[int, int]:
        """A ladder's or a number scale's lowest and highest value (the instrument loader requires both)."""
        if self.min_value is None or self.max_value is None:
            raise ValueError(f"Skalan {self.code} saknar lägsta eller högsta värde.")
        return self.min_value, self.max_value

    @property
    def option_values(self) -> list[int]:
        return [option["value"] for option in self.options]


class Dimension(models.Model):
    """A group of items, e.g. Hälsa; rating dimensions get a score, the others are reported as they are."""

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="dimensions")
    code = models.SlugField("kod", max_length=60)
    order = models.PositiveIntegerField("ordning")
    label = models.JSONField("benämning", help_text='{"sv": …, "en": …, "sv_lattlast": …}')
    is_rating = models.BooleanField("skattning", help_text="Frågorna skattas och räknas samman till en poäng.")

    class Meta:
        verbose_name = "dimension"
        verbose_name_plural = "dimensioner"
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_dimension_code_per_version"),
            models.UniqueConstraint(fields=["version", "order"], name="unique_dimension_order_per_version"),
        ]

    def __str__(self) -> str:
        return self.label.get("sv", self.code)


class Item(models.Model):
    """One question, with a wording per perspective and language.

    `version` repeats dimension.version so that the database keeps item codes unique within a
    version (answers and error messages refer to items by code).
    """

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="items")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="items")
    scale = models.ForeignKey(Scale, on_delete=models.PROTECT, related_name="items")
    code = models.SlugField("kod", max_length=60)
    order = models.PositiveIntegerField("ordning inom dimensionen")
    texts = models.JSONField("frågetexter", help_text='{"self": {"sv": …, "en": …}, "mentor": {"sv": …}}')
    applies_to = models.CharField("ställs till", max_length=10, choices=AppliesTo.choices)
    reverse_coded = models.BooleanField("omvänt kodad", default=False)
    required = models.BooleanField("obligatorisk", default=True)
    pictogram = models.JSONField(
        "piktogram", default=dict, blank=True, help_text='{"file": lagrat filnamn, "alt": {"sv": …}}; tomt om inget'
    )

    class Meta:
        verbose_name = "fråga"
        verbose_name_plural = "frågor"
        ordering = ["dimension__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_item_code_per_version"),
            models.UniqueConstraint(fields=["dimension", "order"], name="unique_item_order_per_dimension"),
        ]

    def __str__(self) -> str:
        return self.code


# --- Readings -------------------------------------------------------------------------------


class SessionStatus(models.TextChoices):
    DRAFT = "draft", "Utkast"
    SUBMITTED = "submitted", "Inlämnad"
    SUPERSEDED = "superseded", "Ersatt av en rättelse"


class AssessmentSession(models.Model):
    """One reading of one instrument version for one enrolment, from one perspective.

    `client_uuid` is generated on the device that filled the form, so a resubmission after a lost
    connection finds the stored session instead of creating a second one. Corrections create a
    new session that supersedes this one; nothing is edited in place once submitted.
    """

    enrolment = models.ForeignKey(
        "participants.Enrolment", on_delete=models.PROTECT, related_name="assessment_sessions"
    )
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="sessions")
    perspective = models.CharField("perspektiv", max_length=10, choices=Perspective.choices)
    language = models.CharField("språk", max_length=12, default=DEFAULT_LANGUAGE)
    client_uuid = models.UUIDField("klientens id", unique=True)
    status = models.CharField("status", max_length=12, choices=SessionStatus.choices)
    occurred_at = models.DateTimeField("genomförd")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="registrerad av",
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="superseded_by"
    )
    consent_withdrawn = models.BooleanField(
        "samtycket återkallat",
        default=False,
        help_text="Sparas anonymiserad: visas inte och ingår inte i stegförflyttning.",
    )
    submitted_at = models.DateTimeField("inlämnad", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "bedömning"
        verbose_name_plural = "bedömningar"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["enrolment", "perspective", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_perspective_display()} {self.occurred_at:%Y-%m-%d}"


class Answer(models.Model):
    """One item's answer in a session; `value` is null when the item was left unanswered."""

    session = models.ForeignKey(AssessmentSession, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    value = models.IntegerField("svar", null=True, blank=True)

    class Meta:
        verbose_name = "svar"
        verbose_name_plural = "svar"
        constraints = [models.UniqueConstraint(fields=["session", "item"], name="one_answer_per_item")]

    def __str__(self) -> str:
        return f"{self.item_id}={self.value}"


class SelfAssessmentLink(models.Model):
    """A single-use, expiring link that opens one participant's self-assessment, without an account.

    Only a hash of the token is stored; the token itself is shown once, to the mentor.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    enrolment = models.ForeignKey("participants.Enrolment", on_delete=models.CASCADE, related_name="self_links")
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="+")
    language = models.CharField("språk", max_length=12, default=DEFAULT_LANGUAGE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("går ut")
    used_at = models.DateTimeField("använd", null=True, blank=True)
    session = models.OneToOneField(
        AssessmentSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="self_link"
    )

    class Meta:
        verbose_name = "länk till självskattning"
        verbose_name_plural = "länkar till självskattning"

    def __str__(self) -> str:
        return f"Länk {self.pk} (går ut {self.expires_at:%Y-%m-%d})"


# --- Anonymous satisfaction surveys -------------------------------------------------------------


class SurveyCampaign(models.Model):
    """A satisfaction survey for one insats and period: an anonymous link and how many were asked."""

    insats = models.ForeignKey("participants.Insats", on_delete=models.PROTECT, related_name="survey_campaigns")
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField("från")
    period_end = models.DateField("till")
    number_asked = models.PositiveIntegerField("antal tillfrågade")
    token = models.CharField(max_length=43, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed = models.BooleanField("stängd", default=False)

    class Meta:
        verbose_name = "deltagarenkät"
        verbose_name_plural = "deltagarenkäter"
        ordering = ["-period_start", "insats"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="campaign_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.insats} {self.period_start}–{self.period_end}"


class SurveyResponse(models.Model):
    """One anonymous response: linked to the campaign (insats and period), never to a person."""

    campaign = models.ForeignKey(SurveyCampaign, on_delete=models.PROTECT, related_name="responses")
    client_uuid = models.UUIDField(unique=True)
    submitted_on = models.DateField("inlämnad")
    record_key = record_key_field()

    class Meta:
        verbose_name = "enkätsvar"
        verbose_name_plural = "enkätsvar"

    def __str__(self) -> str:
        return f"Svar {self.pk}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    value = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "item"], name="one_survey_answer_per_item")]

    def __str__(self) -> str:
        return f"{self.item_id}={self.value}"
