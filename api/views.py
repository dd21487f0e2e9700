"""The API's endpoints (/api/v1/) and the account page where an artist makes and revokes tokens.

Endpoints parse, call the same selectors and services the pages call, and serialise: a page and an API call
cannot disagree. A list's filters are the gallery's own form (gallery.forms.ViewForm), so `?q=sea&sort=title`
means the same in both.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, viewsets
from rest_framework.decorators import action

from api import serializers, services
from api.forms import TokenForm
from api.models import ApiToken
from api.pagination import ViewCursor
from gallery import selectors as gallery
from gallery.forms import ViewForm
from gallery.models import Star
from generator import selectors
from generator.http import SignedInRequest
from generator.views import png_download, send_file

VIEW_PARAMETERS = [
    OpenApiParameter("q", str, description="Words in the title, tags, style, caption or labels"),
    OpenApiParameter("style", str, description="A preset's slug, or `painting` for the artist's own paintings"),
    OpenApiParameter("mode", str, enum=["fast", "quality"]),
    OpenApiParameter("version", int, description="A model version's id"),
    OpenApiParameter("since", OpenApiTypes.DATE),
    OpenApiParameter("until", OpenApiTypes.DATE),
    OpenApiParameter("board", int, description="A board's id"),
    OpenApiParameter("tag", str),
    OpenApiParameter("starred", bool),
    OpenApiParameter("public", bool),
    OpenApiParameter("sort", str, enum=list(gallery.SORTS)),
]


class PresetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The styles the studio paints with, as its preset grid shows them."""

    serializer_class = serializers.PresetSerializer
    pagination_class = None  # a few dozen, in the studio's order

    def get_queryset(self):
        return selectors.visible_presets()


@extend_schema(parameters=VIEW_PARAMETERS)
class ArtworkViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's artworks, through the gallery's search, filters and sorts; one artwork (its own, or a public
    one) with its provenance."""

    lookup_value_regex = "[0-9a-fA-F-]{36}"
    pagination_class = ViewCursor

    def _view(self) -> gallery.GalleryView:
        form = ViewForm(self.request.query_params, user=self.request.user)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        return form.view()

    def get_queryset(self):
        return gallery.artworks_in_view(user=self.request.user, view=self._view())

    def ordering_for(self, request) -> tuple[str, ...]:
        return gallery.SORTS.get(self._view().sort, gallery.SORTS["new"])[1]

    def get_serializer_class(self):
        return serializers.ArtworkDetailSerializer if self.action == "retrieve" else serializers.ArtworkSerializer

    def get_object(self):
        artwork = selectors.artwork_seen_by(user=self.request.user, pk=self.kwargs["pk"])  # 404 if not theirs
        artwork.is_starred = Star.objects.filter(user=self.request.user, artwork=artwork).exists()
        return artwork

    @extend_schema(
        parameters=[],
        responses={(200, "image/png"): OpenApiTypes.BINARY},
        description="The picture as a PNG under its title, its parameters and model versions in its text chunks.",
    )
    @action(detail=True, methods=["get"])
    def image(self, request, pk=None) -> HttpResponseBase:
        return png_download(selectors.artwork_seen_by(user=request.user, pk=pk))

    @extend_schema(parameters=[], responses={(200, "image/webp"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def thumbnail(self, request, pk=None) -> HttpResponseBase:
        return send_file(selectors.artwork_seen_by(user=request.user, pk=pk).thumbnail)


# -- the account page: tokens -----------------------------------------------------------------------------


@login_required
def tokens(request: SignedInRequest) -> HttpResponse:
    """The artist's tokens; a new one is shown once, on the page its form was posted to."""
    form = TokenForm(request.POST or None, user=request.user)
    made = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            days = form.cleaned_data["days"]
            try:
                token, made = services.token_create(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires=timezone.now() + timedelta(days=days) if days else None,
                )
            except DjangoValidationError as exc:
                form.add_error(None, exc)
        if made is None:
            status = 400
        else:
            form = TokenForm(user=request.user)
    listed = ApiToken.objects.filter(owner=request.user)
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": listed, "made": made, "now": timezone.now()},
        status=status,
    )


@login_required
@require_POST
def token_revoke(request: SignedInRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, owner=request.user)  # another artist's token: 404
    services.token_revoke(token=token, by=request.user)
    messages.success(request, _("The token “%(name)s” is revoked: it works no more.") % {"name": token.name})
    return redirect("api:tokens")
