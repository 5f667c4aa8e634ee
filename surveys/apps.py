from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Instrument och bedömningar"

    def ready(self) -> None:
        from participants import hooks
        from surveys import navigation, privacy

        hooks.EXPORT_SECTIONS.append(privacy.sessions_export_section)
        hooks.PROGRESSION_WITHDRAWAL_HANDLERS.append(privacy.sessions_on_progression_withdrawn)
        hooks.ENROLMENT_LINKS.append(navigation.conversation_links)
        hooks.INSATS_LINKS.append(navigation.insats_links)
        hooks.ENROLMENT_CLOSING.append(navigation.closing_prompts)
        hooks.OFFLINE_PAGES.append(navigation.offline_pages)
