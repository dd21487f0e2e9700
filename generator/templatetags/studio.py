from django import template
from django.utils.translation import gettext

from generator.ml import presets

register = template.Library()


@register.filter
def preset_name(slug: str | None) -> str:
    """A preset's name in the current language; the slug itself when it is not a known preset."""
    preset = presets.PRESETS.get(slug or "")
    return gettext(preset.name) if preset else (slug or "")
