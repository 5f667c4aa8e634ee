"""REST endpoints for the registry, with the same scoping and services as the pages. Thin adapters:
access is decided by the selectors and services (participants/access.py)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import error_responses
from config.requests import SignedInApiRequest
from participants import access, gdpr
from participants.models import Enrolment, Forbund, MeasurementMode, Participant
from participants.permissions import HasAnyRole
from participants.selectors import participant_detail_for_user, participant_list_for_user
from participants.serializers import (
    ConsentSerializer,
    EnrolmentCloseSerializer,
    EnrolmentSerializer,
    EnrolmentWriteSerializer,
    IdentityRectifySerializer,
    IdentitySerializer,
    MentorChangeSerializer,
    ParticipantConflictSerializer,
    ParticipantDetailSerializer,
    ParticipantFilterSerializer,
    ParticipantRegisterSerializer,
    ParticipantSerializer,
    ReasonSerializer,
)
from participants.services import (
    ParticipantAlreadyRegistered,
    consent_record,
    enrolment_change_mentor,
    enrolment_close,
    enrolment_of_existing,
    identity_read,
    identity_rectify,
    participant_erase,
    participant_lookup,
    participant_register,
)


def as_api_error(error: ValidationError) -> serializers.ValidationError:
    """A service's ValidationError as DRF's field-level 400."""
    return serializers.ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


def _participant(request: Request, pseudonym: str) -> Participant:
    try:
        return participant_detail_for_user(user=request.user, pseudonym=pseudonym)
    except Participant.DoesNotExist:
        raise Http404 from None


def _writable_enrolment(request: Request, enrolment_id: int) -> Enrolment:
    """An enrolment the user sees (else 404) and may change (else 403, before the body is read)."""
    readable = access.enrolments_readable_by(request.user).select_related("insats", "participant")
    enrolment = get_object_or_404(readable, pk=enrolment_id)
    access.require(
        access.enrolments_writable_by(request.user).filter(pk=enrolment.pk).exists(),
        "Du kan inte ändra inskrivningar i den här insatsen.",
    )
    return enrolment


def _require_identity_access(request: Request, participant: Participant) -> None:
    access.require(
        access.can_read_identity(request.user, participant), "Du har inte behörighet till deltagarens identitet."
    )


@extend_schema_view(
    get=extend_schema(
        operation_id="participant_list",
        parameters=[ParticipantFilterSerializer],
        responses={200: ParticipantSerializer(many=True), **error_responses(400)},
    ),
    post=extend_schema(
        operation_id="participant_register",
        request=ParticipantRegisterSerializer,
        responses={
            201: ParticipantSerializer,
            **error_responses(400),
            409: OpenApiResponse(ParticipantConflictSerializer, description="Personen finns redan i förbundet"),
        },
    ),
)
class ParticipantListApi(generics.ListCreateAPIView):
    """List participants in scope (pseudonyms only; ?kon=, ?anonym=1|0), or register one."""

    permission_classes = [HasAnyRole]
    cursor_ordering = ("pseudonym",)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ParticipantRegisterSerializer if self.request.method == "POST" else ParticipantSerializer

    def get_queryset(self) -> QuerySet[Participant]:
        query = ParticipantFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        participants = participant_list_for_user(user=self.request.user)
        if kon := query.validated_data.get("kon"):
            participants = participants.filter(kon=kon)
        if query.validated_data["anonym"] is not None:
            participants = participants.filter(is_anonymous=query.validated_data["anonym"])
        return participants

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        user = access.signed_in(request.user)  # HasAnyRole has let only signed-in users through
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        forbund = Forbund.objects.filter(code=values.pop("forbund")).first()
        if forbund is None or not access.can_register_in(user, forbund):
            raise serializers.ValidationError({"forbund": ["Okänt förbund eller utanför din behörighet."]})
        try:
            participant = participant_register(
                forbund=forbund,
                registered_by=user,
                consent_text_version=settings.CONSENT_TEXT_VERSION,
                **values,
            )
        except ParticipantAlreadyRegistered:
            # Only users allowed to look personnummer up get this far; the hit is logged.
            existing = participant_lookup(
                user=user,
                forbund=forbund,
                personnummer=values["personnummer"],
                reason="Registrering via API: personnumret fanns redan",
            )
            return Response(
                {"detail": "Personen finns redan i förbundet.", "pseudonym": existing.pseudonym if existing else ""},
                status=status.HTTP_409_CONFLICT,
            )
        except ValidationError as exc:
            raise as_api_error(exc) from None
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)


class ParticipantDetailApi(APIView):
    """A participant's pseudonymous data with enrolments (and mentor history) and consents."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="participant_retrieve", responses={200: ParticipantDetailSerializer, **error_responses(404)}
    )
    def get(self, request: Request, pseudonym: str) -> Response:
        return Response(ParticipantDetailSerializer(_participant(request, pseudonym)).data)


class ParticipantConsentApi(APIView):
    """Append a consent or a withdrawal."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="participant_consent_create",
        request=ConsentSerializer,
        responses={201: ConsentSerializer, **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, pseudonym: str) -> Response:
        participant = _participant(request, pseudonym)
        access.require(
            access.can_record_consent(request.user, participant),
            "Du kan inte registrera samtycken för den här deltagaren.",
        )
        data = ConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            consent = consent_record(
                participant=participant,
                recorded_by=request.user,
                text_version=settings.CONSENT_TEXT_VERSION,
                **data.validated_data,
            )
        except ValidationError as exc:
            raise as_api_error(exc) from None
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class ParticipantEnrolApi(APIView):
    """Enrol a person already in the register in an insats measured per person: their fresh consent
    (consent_channel) and the reason are recorded and logged."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="participant_enrol",
        request=EnrolmentWriteSerializer,
        responses={201: EnrolmentSerializer, **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, pseudonym: str) -> Response:
        participant = _participant(request, pseudonym)
        access.require(
            access.insatser_for_casework(request.user).filter(forbund=participant.forbund).exists(),
            "Du kan inte skriva in deltagare i någon av förbundets insatser.",
        )
        data = EnrolmentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        insats = (
            access.insatser_for_casework(request.user)
            .filter(code=values.pop("insats"), measurement_mode=MeasurementMode.PER_PERSON)
            .first()
        )
        if insats is None:
            raise serializers.ValidationError({"insats": ["Okänd insats eller utanför din behörighet."]})
        mentor_name = values.pop("mentor")
        mentor = access.mentor_candidates(insats).filter(username=mentor_name).first() if mentor_name else None
        if mentor_name and mentor is None:
            raise serializers.ValidationError({"mentor": ["Användaren är inte handledare i insatsen."]})
        try:
            enrolment = enrolment_of_existing(
                by=request.user, participant=participant, insats=insats, mentor=mentor, **values
            )
        except ValidationError as exc:
            raise as_api_error(exc) from None
        return Response(EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)


class EnrolmentCloseApi(APIView):
    """Close an enrolment with an avslutsanledning and the försörjning after."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="enrolment_close",
        request=EnrolmentCloseSerializer,
        responses={200: EnrolmentSerializer, **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, enrolment_id: int) -> Response:
        enrolment = _writable_enrolment(request, enrolment_id)
        data = EnrolmentCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            enrolment = enrolment_close(by=request.user, enrolment=enrolment, **data.validated_data)
        except ValidationError as exc:
            raise as_api_error(exc) from None
        return Response(EnrolmentSerializer(enrolment).data)


class EnrolmentMentorApi(APIView):
    """Hand the enrolment to another mentor from a date; the history is kept."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="enrolment_mentor_change",
        request=MentorChangeSerializer,
        responses={200: EnrolmentSerializer, **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, enrolment_id: int) -> Response:
        enrolment = _writable_enrolment(request, enrolment_id)
        data = MentorChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mentor = access.mentor_candidates(enrolment.insats).filter(username=data.validated_data["mentor"]).first()
        if mentor is None:
            raise serializers.ValidationError({"mentor": ["Användaren är inte handledare i insatsen."]})
        try:
            enrolment_change_mentor(
                by=request.user, enrolment=enrolment, mentor=mentor, from_date=data.validated_data["from_date"]
            )
        except ValidationError as exc:
            raise as_api_error(exc) from None
        return Response(EnrolmentSerializer(Enrolment.objects.get(pk=enrolment.pk)).data)


@method_decorator(never_cache, name="dispatch")
class ParticipantIdentityApi(APIView):
    """Read identity data with a stated reason; logged as an access event."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="participant_identity_read",
        request=ReasonSerializer,
        responses={200: IdentitySerializer, **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, pseudonym: str) -> Response:
        participant = _participant(request, pseudonym)
        _require_identity_access(request, participant)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            identity = identity_read(user=request.user, participant=participant, reason=data.validated_data["reason"])
        except LookupError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return Response(IdentitySerializer(identity).data)


@method_decorator(never_cache, name="dispatch")
class ParticipantIdentityRectifyApi(APIView):
    """Rättelse of identity data (name, contact, personnummer) with a stated reason; logged."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="participant_identity_rectify",
        request=IdentityRectifySerializer,
        responses={200: IdentitySerializer, **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, pseudonym: str) -> Response:
        participant = _participant(request, pseudonym)
        _require_identity_access(request, participant)
        data = IdentityRectifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            identity_rectify(user=request.user, participant=participant, **data.validated_data)
            identity = identity_read(user=request.user, participant=participant, reason="Rättelse via API: kvittens")
        except ValidationError as exc:
            raise as_api_error(exc) from None
        except LookupError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return Response(IdentitySerializer(identity).data)


def _require_request_handler(request: Request, participant: Participant) -> None:
    access.require(
        access.can_answer_data_subject_requests(request.user, participant),
        "Bara förbundets administratör kan exportera eller radera en persons uppgifter.",
    )


@method_decorator(never_cache, name="dispatch")
class ParticipantExportApi(APIView):
    """Registerutdrag (the right of access): everything held about the person; förbund admins only."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="participant_export",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Registerutdraget, med svenska nycklar"),
            **error_responses(404),
        },
    )
    def get(self, request: SignedInApiRequest, pseudonym: str) -> Response:
        participant = _participant(request, pseudonym)
        _require_request_handler(request, participant)
        return Response(
            gdpr.participant_export(participant=participant, by=request.user, reason="Registerutdrag via API")
        )


class ParticipantErasureApi(APIView):
    """Erase the person's identity and personal data; förbund admins only."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="participant_erase",
        request=ReasonSerializer,
        responses={204: OpenApiResponse(description="Raderat"), **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, pseudonym: str) -> Response:
        participant = _participant(request, pseudonym)
        _require_request_handler(request, participant)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        participant_erase(participant=participant, by=request.user, reason=data.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)
