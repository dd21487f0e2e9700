from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistantConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assistant"
    verbose_name = _("Creative assistant")

    def ready(self) -> None:
        from celery.signals import worker_ready

        from assistant.receivers import index_at_worker_start, index_for_new_encoder, suggest_for_new_artwork
        from generator.signals import artwork_created, model_version_activated

        # The studio announces each new artwork; the assistant suggests a title and tags for it.
        artwork_created.connect(suggest_for_new_artwork, dispatch_uid="assistant.suggest_for_new_artwork")
        # The similar-works index is built by the studio itself: at a worker's start and for a new encoder.
        model_version_activated.connect(index_for_new_encoder, dispatch_uid="assistant.index_for_new_encoder")
        worker_ready.connect(index_at_worker_start, dispatch_uid="assistant.index_at_worker_start")
