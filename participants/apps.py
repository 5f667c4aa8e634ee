from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = "Deltagarregister"

    def ready(self) -> None:
        from participants import hooks
        from participants.models import AccessEvent, AccessLogReview, Consent, VolumeRegistration

        hooks.FORBUND_TEXT_FIELDS.extend(
            [
                (AccessEvent, "reason", "forbund_id"),
                (AccessLogReview, "note", "forbund_id"),
                (Consent, "member_authority", "participant__forbund_id"),
                (VolumeRegistration, "category", "insats__forbund_id"),
            ]
        )
