from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = "Deltagarregister"

    def ready(self) -> None:
        from config.languages import register_extra_languages
        from participants import hooks, preferences  # noqa: F401  (preferences: the login signal)

        register_extra_languages()
        from participants.models import AccessEvent, AccessLogReview, Consent, VolumeRegistration

        hooks.FORBUND_TEXT_FIELDS.extend(
            [
                (AccessEvent, "reason", "forbund_id"),
                (AccessLogReview, "note", "forbund_id"),
                (Consent, "member_authority", "participant__forbund_id"),
                (VolumeRegistration, "category", "insats__forbund_id"),
            ]
        )
