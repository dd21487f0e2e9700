from django import template

register = template.Library()


@register.filter
def confidence(value) -> str:
    """A model's confidence as a whole percentage; "<1%" rather than a "0%" that reads as broken."""
    try:
        share = float(value)
    except (TypeError, ValueError):
        return ""
    return "<1%" if share < 0.005 else f"{round(share * 100)}%"
