from typing import Any

from django import template

from assistant.forms import IdeaForm

register = template.Library()


@register.inclusion_tag("assistant/_studio_panel.html", takes_context=True)
def assistant_panel(context: template.Context) -> dict[str, Any]:
    """The assistant's panel on the studio page (the studio itself knows nothing of the assistant); open when
    the page was asked to open it (?ask=1)."""
    request = context.get("request")
    return {
        "form": IdeaForm(),
        "open": bool(request and request.GET.get("ask")),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def confidence(value) -> str:
    """A model's confidence as a whole percentage; "<1%" rather than a "0%" that reads as broken."""
    try:
        share = float(value)
    except (TypeError, ValueError):
        return ""
    return "<1%" if share < 0.005 else f"{round(share * 100)}%"


@register.filter
def label_name(label: str, kind: str) -> str:
    """A classifier head's label in the artist's language: ``{{ m.label|label_name:"movement" }}``."""
    from assistant.label_names import label_name as translated

    return translated(str(label), kind)
