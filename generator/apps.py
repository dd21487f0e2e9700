from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeneratorConfig(AppConfig):
    name = "generator"
    verbose_name = _("Studio")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import generator.listing  # noqa: F401  (the receivers)
