from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from participants.models import (
    EXTENT_CHOICES,
    Consent,
    ConsentChannel,
    EducationLevel,
    Enrolment,
    ExitReason,
    Forbund,
    IncomeSource,
    Insats,
    Kon,
    Participant,
)

# Extents are written as strings ("0.75") and read back as numbers (0.75).
EXTENT_VALUES = [str(value) for value, _ in EXTENT_CHOICES]


class InsatsSerializer(serializers.ModelSerializer):
    forbund: serializers.SlugRelatedField[Forbund] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Insats
        fields = ["code", "name", "forbund", "kind", "category", "measurement_mode", "capacity", "active"]


MENTOR_HISTORY_SCHEMA = inline_serializer(
    "MentorPeriod",
    many=True,
    fields={
        "mentor": serializers.CharField(help_text="Användarnamn"),
        "from": serializers.DateField(),
        "to": serializers.DateField(allow_null=True, help_text="Tom när handledaren är kvar"),
    },
)


class EnrolmentSerializer(serializers.ModelSerializer):
    participant: serializers.SlugRelatedField[Participant] = serializers.SlugRelatedField(
        slug_field="pseudonym", read_only=True
    )
    insats: serializers.SlugRelatedField[Insats] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    exit_reason: serializers.SlugRelatedField[ExitReason] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    income_before: serializers.SlugRelatedField[IncomeSource] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    income_after: serializers.SlugRelatedField[IncomeSource] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    education: serializers.SlugRelatedField[EducationLevel] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    mentor_history = serializers.SerializerMethodField()

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "participant",
            "insats",
            "start_date",
            "end_date",
            "exit_reason",
            "income_before",
            "income_before_extent",
            "income_after",
            "income_after_extent",
            "education",
            "years_in_public_support",
            "mentor_history",
        ]

    @extend_schema_field(MENTOR_HISTORY_SCHEMA)
    def get_mentor_history(self, enrolment: Enrolment) -> list[dict]:
        return [
            {"mentor": a.mentor.username, "from": a.start_date, "to": a.end_date}
            for a in enrolment.mentor_assignments.all()
        ]


class ParticipantSerializer(serializers.ModelSerializer):
    forbund: serializers.SlugRelatedField[Forbund] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Participant
        fields = ["pseudonym", "forbund", "kon", "birth_year", "is_anonymous", "identity_erased_at"]


class ParticipantFilterSerializer(serializers.Serializer):
    """Query parameters of the participant list."""

    kon = serializers.ChoiceField(choices=Kon.choices, required=False)
    anonym = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="1: bara anonyma, 0: bara identifierade"
    )


class EnrolmentFilterSerializer(serializers.Serializer):
    """Query parameters of an insats's enrolment list."""

    open = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="1: bara pågående, 0: bara avslutade"
    )


class ParticipantRegisterSerializer(serializers.Serializer):
    forbund = serializers.SlugField()
    anonymous = serializers.BooleanField(default=False)
    personnummer = serializers.CharField(required=False, allow_blank=True, default="")
    name = serializers.CharField(required=False, allow_blank=True, default="")
    contact = serializers.CharField(required=False, allow_blank=True, default="")
    kon = serializers.ChoiceField(choices=Kon.choices)
    birth_year = serializers.IntegerField(required=False, allow_null=True, default=None)
    consent_channel = serializers.ChoiceField(
        choices=ConsentChannel.choices, required=False, allow_blank=True, default=""
    )
    guardian_consent = serializers.BooleanField(default=False)


class ConsentSerializer(serializers.ModelSerializer):
    """A consent as the API shows it. Who recorded it is left out: a consent given in another insats
    would name that insats' staff (the registerutdrag and the admin have it)."""

    class Meta:
        model = Consent
        fields = [
            "purpose",
            "granted",
            "channel",
            "member_authority",
            "guardian_consent",
            "text_version",
            "recorded_at",
        ]
        read_only_fields = ["text_version", "recorded_at"]


class ParticipantDetailSerializer(ParticipantSerializer):
    enrolments = EnrolmentSerializer(many=True, read_only=True)
    consents = ConsentSerializer(many=True, read_only=True)

    class Meta(ParticipantSerializer.Meta):
        fields = [*ParticipantSerializer.Meta.fields, "enrolments", "consents"]


class ParticipantConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    pseudonym = serializers.CharField(help_text="Personens pseudonym i förbundet")


class IdentitySerializer(serializers.Serializer):
    personnummer = serializers.CharField()
    name = serializers.CharField()
    contact = serializers.CharField()


class EnrolmentWriteSerializer(serializers.Serializer):
    insats = serializers.SlugField()
    start_date = serializers.DateField()
    mentor = serializers.CharField(required=False, allow_blank=True, default="", help_text="Användarnamn")
    income_before = serializers.SlugRelatedField(slug_field="code", queryset=IncomeSource.objects.all())
    income_before_extent = serializers.ChoiceField(choices=EXTENT_VALUES, default="1.00")
    education = serializers.SlugRelatedField(slug_field="code", queryset=EducationLevel.objects.all())
    years_in_public_support = serializers.DecimalField(max_digits=4, decimal_places=1, required=False, allow_null=True)
    reason = serializers.CharField(
        min_length=3, max_length=200, help_text="Varför personen skrivs in; sparas i åtkomstloggen"
    )
    consent_channel = serializers.ChoiceField(
        choices=ConsentChannel.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Hur personen samtyckte på nytt till registrering; krävs för en deltagare med identitet",
    )
    guardian_consent = serializers.BooleanField(default=False)


class IdentityRectifySerializer(serializers.Serializer):
    """Rättelse: only the fields sent are changed."""

    name = serializers.CharField(required=False, max_length=200)
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200)
    personnummer = serializers.CharField(required=False, max_length=20)
    reason = serializers.CharField(min_length=3, max_length=300)


class EnrolmentCloseSerializer(serializers.Serializer):
    end_date = serializers.DateField()
    exit_reason = serializers.SlugRelatedField(slug_field="code", queryset=ExitReason.objects.all())
    income_after = serializers.SlugRelatedField(
        slug_field="code", queryset=IncomeSource.objects.all(), required=False, allow_null=True, default=None
    )
    income_after_extent = serializers.ChoiceField(choices=EXTENT_VALUES, default="1.00")


class MentorChangeSerializer(serializers.Serializer):
    mentor = serializers.CharField(help_text="Användarnamn")
    from_date = serializers.DateField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(min_length=3, max_length=300)
