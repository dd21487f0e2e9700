from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistantConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assistant"
    verbose_name = _("Creative assistant")

    def ready(self) -> None:
        from assistant.receivers import suggest_for_new_artwork
        from generator.signals import artwork_created

        # The studio announces each new artwork; the assistant suggests a title and tags for it.
        artwork_created.connect(suggest_for_new_artwork, dispatch_uid="assistant.suggest_for_new_artwork")
