"""The gallery's cards, written in Python: a grid of 48 through the template engine cost about 10 ms a page (a
dozen variable lookups a card, each a few microseconds), the largest part of the gallery's time under load. The
markup is the same a template would give; every value goes through format_html's escaping."""

from __future__ import annotations

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag(takes_context=True)
def gallery_cards(context, cards: list[dict], found_in: str = "") -> SafeString:
    """The <li> of each card (gallery.views._cards); on a board's page, each with its "use as cover" form."""
    return render_cards(cards, found_in=found_in, board=context.get("board"), request=context["request"])


def render_cards(cards: list[dict], *, found_in: str = "", board=None, request=None) -> SafeString:
    """The cards' markup; without a board it holds nothing of the request's (no form, no CSRF token), so the
    gallery keeps it with the cards (generator.listing)."""
    words = {
        "untitled": gettext("Untitled"),
        "starred": gettext("Starred"),
        "public": gettext("Public"),
        "cover": gettext("Cover"),
        "use_as_cover": gettext("Use as cover"),
    }
    cover = ""
    if board:  # one form a card, all alike but for the picture: its fixed parts once
        cover = format_html(
            '<form method="post" action="{}" class="cover-form"><input type="hidden" name="csrfmiddlewaretoken" '
            'value="{}"><input type="hidden" name="next" value="{}">',
            reverse("gallery:board-cover", args=[board.pk]),
            get_token(request),
            request.get_full_path(),
        )
    return mark_safe("".join(_card(card, words, found_in, board, cover) for card in cards))  # each part escaped above


def _card(card: dict, words: dict, found_in: str, board, cover: str) -> str:
    pk, title = card["pk"], card["title"] or words["untitled"]
    marks = SafeString("")
    if card["starred"]:
        marks += format_html('<span class="star" title="{}" data-testid="starred">★</span> ', words["starred"])
    if card["public"]:
        marks += format_html('<span class="public-mark" title="{}" data-testid="public">◉</span> ', words["public"])
    tags = (
        format_html(
            '<span class="card-tags">{}</span>',
            format_html_join("", '<span class="chip chip-small">{}</span>', ((name,) for name in card["tags"])),
        )
        if card["tags"]
        else ""
    )
    matched = (
        format_html(
            '<span class="matched small" data-testid="matched">{} {}</span>',
            found_in,
            ", ".join(str(m) for m in card["matched"]),
        )
        if card["matched"]
        else ""
    )
    form = ""
    if board:
        is_cover = board.cover_id == pk
        form = format_html(
            '{}<input type="hidden" name="artwork" value="{}"><button type="submit" class="link-button small"{}>{}'
            "</button></form>",
            cover,
            pk,
            mark_safe(" disabled") if is_cover else "",
            words["cover"] if is_cover else words["use_as_cover"],
        )
    return format_html(
        '<li class="gallery-item{}" data-artwork="{}">'
        '<input type="checkbox" name="ids" value="{}" form="selection-form" class="select-box" id="select-{}" '
        'aria-labelledby="caption-{}"><a href="{}"><img src="{}" alt="{}" loading="lazy" width="256" height="256">'
        '<span class="caption" id="caption-{}">{}{} <span class="muted small">{}</span></span>{}{}</a>{}</li>',
        " is-starred" if card["starred"] else "",
        pk,
        pk,
        pk,
        pk,
        card["url"],
        card["thumbnail"],
        title,
        pk,
        marks,
        title,
        date_format(card["created"], "SHORT_DATE_FORMAT"),
        tags,
        matched,
        form,
    )
