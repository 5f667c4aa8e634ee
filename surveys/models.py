"""Instruments: versioned definitions of the questions a session asks and the scales it answers on.

An InstrumentVersion pins everything a session needs to present a form and validate answers:
its scales, dimensions and items. Once published it is never changed; a changed definition
becomes a new version (see services.instrument_load). Writes go through surveys.services only.
"""

from django.db import models
from django.db.models import Q

# Languages an instrument text may have. Swedish is required; the others fall back to it.
LANGUAGES = ("sv", "en", "sv_lattlast")
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
    choice and yes_no: `options` [{"value", "label", "positive"}];
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
