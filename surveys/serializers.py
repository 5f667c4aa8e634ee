from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys.models import LANGUAGES, AssessmentSession, Perspective, ScaleKind

# The "type: ignore[assignment]"s below: a field named like an attribute of DRF's Field (label,
# required), which a serializer also is. DRF's metaclass takes declared fields off the class, so the
# two never meet; the stubs cannot say so.


class InstrumentSummarySerializer(serializers.Serializer):
    code = serializers.CharField(source="instrument.code")
    name = serializers.CharField(source="instrument.name")
    purpose = serializers.CharField(source="instrument.purpose")
    version = serializers.IntegerField(source="number")
    version_id = serializers.IntegerField(source="pk")
    content_hash = serializers.CharField()


class InstrumentFormQuerySerializer(serializers.Serializer):
    perspective = serializers.ChoiceField(choices=Perspective.choices, default=Perspective.SELF)
    language = serializers.ChoiceField(choices=list(LANGUAGES), default="sv")


class FormStageSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    last = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]


class FormOptionSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    positive = serializers.BooleanField()


class FormScaleSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=ScaleKind.choices)
    min_value = serializers.IntegerField(allow_null=True)
    max_value = serializers.IntegerField(allow_null=True)
    unit = serializers.CharField(allow_blank=True)
    stages = FormStageSerializer(many=True, help_text="Stegen på en stege, med sina etiketter")
    options = FormOptionSerializer(many=True, help_text="Svarsalternativen på en flervalsskala")


class FormItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]
    scale = FormScaleSerializer()


class FormDimensionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    is_rating = serializers.BooleanField()
    items = FormItemSerializer(many=True)


class InstrumentFormSerializer(serializers.Serializer):
    """An instrument's current version as one perspective answers it (surveys.selectors.InstrumentForm)."""

    code = serializers.CharField(source="version.instrument.code")
    name = serializers.CharField(source="version.instrument.name")
    purpose = serializers.CharField(source="version.instrument.purpose")
    version = serializers.IntegerField(source="version.number")
    version_id = serializers.IntegerField(source="version.pk")
    content_hash = serializers.CharField(source="version.content_hash")
    perspective = serializers.ChoiceField(choices=Perspective.choices)
    language = serializers.ChoiceField(choices=list(LANGUAGES))
    dimensions = FormDimensionSerializer(many=True)


class SessionSerializer(serializers.ModelSerializer):
    enrolment = serializers.IntegerField(source="enrolment_id")
    participant = serializers.CharField(source="enrolment.participant.pseudonym")
    instrument = serializers.CharField(source="version.instrument.code")
    version = serializers.IntegerField(source="version.number")
    recorded_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    answers = serializers.SerializerMethodField()

    class Meta:
        model = AssessmentSession
        fields = [
            "client_uuid",
            "enrolment",
            "participant",
            "instrument",
            "version",
            "perspective",
            "language",
            "status",
            "occurred_at",
            "submitted_at",
            "recorded_by",
            "answers",
        ]

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "integer", "nullable": True}, "example": {"halsa_1": 7}}
    )
    def get_answers(self, session: AssessmentSession) -> dict[str, int | None]:
        return {answer.item.code: answer.value for answer in session.answers.all()}


class SessionFilterSerializer(serializers.Serializer):
    """Query parameters of the session list."""

    enrolment = serializers.IntegerField(
        required=False, min_value=0, error_messages={"invalid": "Ange inskrivningens id som ett heltal."}
    )
    perspective = serializers.ChoiceField(choices=Perspective.choices, required=False)


# How far ahead of the server's clock a device's clock may be when it says when a reading was made.
CLOCK_TOLERANCE = timedelta(minutes=10)


class SessionSubmitSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(help_text="Skapas på enheten; samma id igen ger den sparade bedömningen.")
    enrolment = serializers.IntegerField()
    instrument = serializers.SlugField(default="stegvis-progression")
    version = serializers.IntegerField(required=False, help_text="Versionsnummer; utelämnat = gällande version.")
    perspective = serializers.ChoiceField(choices=Perspective.choices)
    language = serializers.ChoiceField(choices=list(LANGUAGES), default="sv")
    occurred_at = serializers.DateTimeField(
        required=False, help_text="När bedömningen gjordes, enligt enhetens klocka; högst 10 minuter framåt."
    )
    draft = serializers.BooleanField(default=False)
    answers = serializers.DictField(child=serializers.JSONField(allow_null=True))

    def validate_occurred_at(self, value: datetime) -> datetime:
        """A device says when the reading was made; a clock far ahead of the server's is named."""
        if value > timezone.now() + CLOCK_TOLERANCE:
            when = timezone.localtime(value)
            raise serializers.ValidationError(
                f"Tidpunkten {when:%Y-%m-%d %H:%M} ligger i framtiden. Kontrollera enhetens klocka."
            )
        return value
