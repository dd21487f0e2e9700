from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeneratorConfig(AppConfig):
    name = "generator"
    verbose_name = _("Studio")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import generator.listing  # noqa: F401  (the receivers)
        from generator.services.style_presets import measure_for_new_network
        from generator.signals import model_version_activated

        # How much of a photo each preset keeps is measured again whenever another painting network is active
        model_version_activated.connect(measure_for_new_network, dispatch_uid="generator.measure_for_new_network")
