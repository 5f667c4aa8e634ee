from rest_framework import serializers

from surveys.models import LANGUAGES, AssessmentSession, Perspective


class InstrumentSummarySerializer(serializers.Serializer):
    code = serializers.CharField(source="instrument.code")
    name = serializers.CharField(source="instrument.name")
    purpose = serializers.CharField(source="instrument.purpose")
    version = serializers.IntegerField(source="number")
    version_id = serializers.IntegerField(source="pk")
    content_hash = serializers.CharField()


class SessionSerializer(serializers.ModelSerializer):
    enrolment = serializers.IntegerField(source="enrolment_id")
    participant = serializers.CharField(source="enrolment.participant.pseudonym")
    instrument = serializers.CharField(source="version.instrument.code")
    version = serializers.IntegerField(source="version.number")
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
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

    def get_answers(self, session: AssessmentSession) -> dict[str, int | None]:
        return {answer.item.code: answer.value for answer in session.answers.all()}


class SessionSubmitSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(help_text="Skapas på enheten; samma id igen ger den sparade bedömningen.")
    enrolment = serializers.IntegerField()
    instrument = serializers.SlugField(default="stegvis-progression")
    version = serializers.IntegerField(required=False, help_text="Versionsnummer; utelämnat = gällande version.")
    perspective = serializers.ChoiceField(choices=[Perspective.SELF, Perspective.MENTOR, Perspective.AGREED])
    language = serializers.ChoiceField(choices=list(LANGUAGES), default="sv")
    occurred_at = serializers.DateTimeField(required=False)
    draft = serializers.BooleanField(default=False)
    answers = serializers.DictField(child=serializers.JSONField(allow_null=True))
