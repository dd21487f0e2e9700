"""The assistant's pages: ask, watch the answer arrive, keep the ideas worth keeping."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_POST, require_safe

from assistant import selectors, services
from assistant.forms import IdeaForm
from assistant.label_names import label_name
from generator.http import SignedInRequest
from generator.limits import form_over_limit
from generator.models import Preset
from generator.views import send_file


@login_required
def ask(request: SignedInRequest) -> HttpResponse:
    form = IdeaForm(request.POST or None, request.FILES or None)
    limited = form_over_limit(request, form, group="assistant", rate=settings.ARTSTUDIO_RATE_ASSISTANT)
    if not limited and request.method == "POST" and form.is_valid():
        try:
            idea = services.idea_create(
                owner=request.user, text=form.cleaned_data["text"], picture=form.cleaned_data["picture"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if request.headers.get("HX-Request"):  # the studio's panel: the answer in place, the form made clean
                fresh = IdeaForm(initial={"text": idea.text})
                return render(
                    request,
                    "assistant/_panel_answer.html",
                    {**_answer_context(idea), "form": fresh, "panel": True, "oob": True},
                )
            return redirect(idea)
    status = 429 if limited else 400 if request.method == "POST" else 200
    if status != 200 and request.headers.get("HX-Request"):  # the panel's form comes back with its errors
        response = render(request, "assistant/_ask_form.html", {"form": form, "panel": True}, status=status)
        response["HX-Retarget"], response["HX-Reswap"] = "#idea-form", "outerHTML"
        return response
    context = {"form": form, "saved": selectors.saved_ideas(user=request.user)[:20]}
    return render(request, "assistant/ask.html", context, status=status)


def _answer_context(idea) -> dict:
    slugs = [s["slug"] for s in idea.analysis.get("styles", [])]
    found = {p.slug: p for p in Preset.objects.filter(slug__in=slugs)}
    styles = [
        {
            **s,
            "name": gettext(s["name"]),
            "why": _why(s),
            "thumbnail": (
                reverse("generator:preset-thumbnail", args=[s["slug"]])
                if s["slug"] in found and found[s["slug"]].thumbnail
                else ""
            ),
            "credit": found[s["slug"]].credit if s["slug"] in found else "",
            "studio": reverse("generator:studio") + f"?style={s['slug']}",
        }
        for s in idea.analysis.get("styles", [])
    ]
    return {
        "idea": idea,
        "styles": styles,
        "left_out": [gettext(s["name"]) for s in idea.analysis.get("left_out", [])],
        "analysis": idea.analysis,
        "writing": idea.writing,
        "notes": services.notes_for(idea.analysis),
    }


def _why(style: dict) -> str:
    """Why a style suits the idea, in the artist's language: the sentences assistant/ml/assist.py writes in
    English, with the labels the idea and the style share translated. An answer from before they were kept
    as labels keeps its English sentence."""
    if "why_labels" not in style:
        return style.get("why", "")
    if not style["why_labels"]:
        return gettext("Of the studio's styles, the nearest to your idea's subject and colour.")
    shared = pgettext("between the items of a list", ", ").join(
        label_name(label, kind) for kind, label in style["why_labels"]
    )
    return gettext("In tune with your idea: %(labels)s.") % {"labels": shared}


@login_required
def idea_detail(request: SignedInRequest, pk) -> HttpResponse:
    idea = selectors.idea_for(user=request.user, pk=pk)
    return render(request, "assistant/idea.html", {**_answer_context(idea), "form": IdeaForm()})


@login_required
@require_safe
def idea_status(request: SignedInRequest, pk) -> HttpResponse:
    idea = selectors.idea_for(user=request.user, pk=pk)
    return render(request, "assistant/_answer.html", _answer_context(idea))


@login_required
@require_POST
def idea_save(request: SignedInRequest, pk) -> HttpResponse:
    idea = selectors.idea_for(user=request.user, pk=pk)
    services.idea_save(idea=idea, by=request.user, saved=request.POST.get("saved", "1") == "1")
    if request.headers.get("HX-Request"):
        return render(request, "assistant/_answer.html", _answer_context(idea))
    return redirect(idea)


@login_required
@require_POST
def idea_cancel(request: SignedInRequest, pk) -> HttpResponse:
    idea = selectors.idea_for(user=request.user, pk=pk)
    try:
        idea = services.idea_cancel(idea=idea, by=request.user)
    except ValidationError:
        idea.refresh_from_db()  # it finished meanwhile: the page shows how
    if request.headers.get("HX-Request"):
        return render(request, "assistant/_answer.html", _answer_context(idea))
    return redirect(idea)


@login_required
@require_POST
def idea_delete(request: SignedInRequest, pk) -> HttpResponse:
    services.idea_delete(idea=selectors.idea_for(user=request.user, pk=pk), by=request.user)
    return redirect("assistant:ask")


@login_required
@require_safe
def idea_picture(request: SignedInRequest, pk) -> FileResponse:
    return send_file(selectors.idea_for(user=request.user, pk=pk).picture)
