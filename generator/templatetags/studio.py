import math
from datetime import timedelta

from django import template
from django.utils.translation import gettext

from generator.ml.options import JobOptions
from generator.models import Preset

register = template.Library()


@register.filter
def preset_name(slug: str | None) -> str:
    """A preset's name in the current language; the slug itself when it is not a known preset."""
    name = Preset.objects.filter(slug=slug).values_list("name", flat=True).first() if slug else None
    return gettext(name) if name else (slug or "")


@register.filter
def preset_credit(slug: str | None) -> str:
    """Who made a preset's painting (an admin's painting, a shipped one), as its credit says; empty if none."""
    return (Preset.objects.filter(slug=slug).values_list("credit", flat=True).first() or "") if slug else ""


@register.filter
def minutes(delta: timedelta) -> int:
    """A waiting time in whole minutes, rounded up: "try again in 15 minutes"."""
    return math.ceil(delta.total_seconds() / 60)


@register.filter
def clock(seconds: float | None) -> str:
    """Seconds as a clock reads them: "0:42", "12:05", "1:02:09"; empty for None."""
    if seconds is None:
        return ""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@register.filter
def blend_shares(params: dict) -> list[tuple[str, int]]:
    """A job's blend as (style, whole percent) pairs: "Udnie 60% + The Scream 40%"."""
    return JobOptions.from_params(params).blend_weights
