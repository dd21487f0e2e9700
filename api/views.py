"""The API's endpoints (/api/v1/) and the account page where an artist makes and revokes tokens.

Endpoints parse, call the same selectors and services the pages call, and serialise: a page and an API call
cannot disagree. A list's filters are the gallery's own form (gallery.forms.ViewForm), so `?q=sea&sort=title`
means the same in both.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.db.models.functions import Lower
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import query, serializers
from api import services as tokens_service
from api.errors import Conflict, as_conflict
from api.forms import TokenForm
from api.models import ApiToken
from api.pagination import InOrder, NewestFirst, ViewCursor
from api.query import NUMBER, UUID
from assistant import selectors as assistant_selectors
from assistant import services as assistant_services
from assistant.forms import IdeaForm
from assistant.models import Idea
from gallery import selectors as gallery
from gallery import services as gallery_services
from gallery.forms import ViewForm
from gallery.models import Board, ShareLink, Star, Tag
from gallery.services import meaning
from generator import held, listing, selectors, services
from generator.forms import StudioForm
from generator.http import SignedInRequest
from generator.limits import over_limit, wait_message
from generator.models import Job
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


class ChangesAreJson:
    """A PATCH is JSON only: a form or multipart body that parses to no fields read as "change nothing", and a
    wrong type in it ("true" for a list) could not be told from text."""

    def get_parsers(self):
        # (asked before the action is known: by the method, from the request Django's view setup keeps)
        if getattr(self.request, "method", "") == "PATCH":
            return [JSONParser()]
        return super().get_parsers()


class PresetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The styles the studio paints with, as its preset grid shows them."""

    serializer_class = serializers.PresetSerializer
    pagination_class = None  # a few dozen, in the studio's order

    def get_queryset(self):
        return selectors.visible_presets()


@extend_schema_view(list=extend_schema(parameters=VIEW_PARAMETERS))
class ArtworkViewSet(ChangesAreJson, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's artworks, through the gallery's search, filters and sorts; one artwork (its own, or a public
    one) with its provenance."""

    lookup_value_regex = UUID
    pagination_class = ViewCursor
    http_method_names = ["get", "head", "patch", "delete"]  # a picture is made by a job, changed in parts

    def _view(self) -> gallery.GalleryView:
        """The request's view, parsed once (the list, its ordering and the search by meaning all read it)."""
        if not hasattr(self, "_parsed"):
            for name in ("starred", "public"):
                query.flag(self.request, name)  # the page's form reads any text as a yes; a script says true or false
            for name in ("mode", "version", "since", "until", "board", "sort"):
                if self.request.query_params.get(name) == "":  # the page's "any": a script leaves the filter out
                    raise query.refuse(name, _("Leave it out, or say which."))
            form = ViewForm(self.request.query_params, user=self.request.user)
            if not form.is_valid():
                raise exceptions.ValidationError(form.errors)
            self._parsed = form.view()
        return self._parsed

    def get_queryset(self):
        return gallery.artworks_in_view(user=self.request.user, view=self._view()).only(*serializers.ARTWORK_FIELDS)

    def list(self, request, *args, **kwargs) -> Response:
        """A page of the list, kept until the artist's pictures change (generator.listing), as the gallery's."""
        page = listing.kept(
            request.user.pk,
            ("api-artworks", request.build_absolute_uri()),
            lambda: super(ArtworkViewSet, self).list(request, *args, **kwargs).data,
        )
        return Response(page)

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
        request={"application/json": serializers.ArtworkUpdateSerializer},
        responses=serializers.ArtworkDetailSerializer,
    )
    def partial_update(self, request, *args, **kwargs) -> Response:
        artwork = selectors.artwork_for(user=request.user, pk=kwargs["pk"])  # 404 unless it is the caller's
        change = serializers.ArtworkUpdateSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        gallery_services.artwork_change(artwork=artwork, by=request.user, **change.validated_data)
        return Response(
            serializers.ArtworkDetailSerializer(self.get_object(), context=self.get_serializer_context()).data
        )

    @extend_schema(parameters=[], responses={204: None})
    def destroy(self, request, *args, **kwargs) -> Response:
        """The picture, its photo and painting, gone for good (as the gallery's Delete)."""
        artwork = selectors.artwork_for(user=request.user, pk=kwargs["pk"])
        gallery_services.artworks_delete(artworks=[artwork], by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="What to look for, in a few words"),
            *VIEW_PARAMETERS[1:],
        ],
        responses={200: serializers.MeaningSerializer, 202: serializers.MeaningSerializer},
        description=(
            "The pictures close in meaning to `q` (its subject or its style), within the other filters, the closest "
            "first. A worker reads them: 202 with Retry-After while it does, then 200 (the answer is kept a minute)."
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def meaning(self, request) -> Response:
        view = self._view()
        if not view.q:
            raise exceptions.ValidationError({"q": [_("Say what to look for.")]}, code="required")
        answer = meaning.meaning_search_result(owner_id=request.user.pk, q=view.q)
        if answer is None:
            meaning.meaning_search_start(owner_id=request.user.pk, q=view.q)
            answer = meaning.Answer("waiting")
        found = gallery.found_by_meaning(user=request.user, view=view, matches=answer.matches, besides_words=False)
        context = {**self.get_serializer_context(), "matches": {m.artwork_id: m for _a, m in found}}
        body = {
            "state": answer.state,
            "message": answer.message,
            "results": serializers.MatchSerializer([a for a, _m in found], many=True, context=context).data,
        }
        if answer.state == "waiting":
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": "1"})
        return Response(body)

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


class JobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's jobs: create one as the studio does (the same form, limits and quota), follow its progress
    and its place in the queue, cancel it, retry it."""

    lookup_value_regex = UUID
    pagination_class = NewestFirst
    parser_classes = [MultiPartParser, FormParser]  # a photo is a file
    state_actions = ("retry",)  # a 409 when the job cannot be tried again
    looks_up = ("create",)  # from_artwork: a 404 unless it is the caller's

    def get_queryset(self):
        return Job.objects.filter(owner=self.request.user).select_related("artwork").order_by("-created", "-id")

    def get_object(self) -> Job:
        return selectors.job_for(user=self.request.user, pk=self.kwargs["pk"])

    def get_serializer_class(self):
        return serializers.JobCreateSerializer if self.action == "create" else serializers.JobSerializer

    @extend_schema(request=serializers.JobCreateSerializer, responses={201: serializers.JobSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        _hold_to_rate(request, group="jobs", rate=settings.ARTSTUDIO_RATE_JOBS)  # the studio's own rate
        data = request.data.copy()
        for name, field in StudioForm.base_fields.items():  # what the page's form always sends, at its defaults
            if name not in data and field.initial is not None and not isinstance(field.initial, bool):
                data[name] = field.initial
        if data.get("from_artwork") and "photo" not in request.FILES:
            source = selectors.artwork_for(user=request.user, pk=str(data["from_artwork"]))  # 404 if not theirs
            data["held_photo"] = held.hold_stored(owner=request.user, field=source.job.photo)
        form = StudioForm(data, request.FILES, presets=list(selectors.visible_presets()), owner=request.user)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        photo, painting = form.pictures()
        job = services.job_create(owner=request.user, photo=photo, style_image=painting, options=form.options())
        if token := form.held("photo"):
            transaction.on_commit(partial(held.release, owner=request.user, token=token))
        body = serializers.JobSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["page"]})

    @extend_schema(request=None, responses=serializers.JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None) -> Response:
        job = services.job_cancel(job=self.get_object(), by=request.user)
        return Response(serializers.JobSerializer(job, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=serializers.JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None) -> Response:
        job = self.get_object()
        if not job.can_retry:
            raise Conflict(_("Only a failed or cancelled job can be tried again."))
        _hold_to_rate(request, group="jobs", rate=settings.ARTSTUDIO_RATE_JOBS)  # a new run, as the page's retry
        job = services.job_retry(job=job, by=request.user)
        return Response(serializers.JobSerializer(job, context=self.get_serializer_context()).data)


class BoardViewSet(ChangesAreJson, viewsets.ModelViewSet):
    """The caller's boards in their order: make one, rename it, move it, choose its cover, make it public,
    delete it (its pictures stay)."""

    queryset = Board.objects.none()  # the schema's model; each request reads get_queryset()
    lookup_value_regex = NUMBER
    serializer_class = serializers.BoardSerializer
    pagination_class = InOrder
    http_method_names = ["get", "head", "post", "patch", "delete"]

    def get_queryset(self):
        return gallery.boards_for(user=self.request.user)

    def get_object(self):
        gallery.board_for(user=self.request.user, pk=self.kwargs["pk"])  # 404 unless it is the caller's
        return self.get_queryset().get(pk=self.kwargs["pk"])

    def perform_create(self, serializer) -> None:
        board = gallery_services.board_create(owner=self.request.user, name=serializer.validated_data["name"])
        serializer.instance = self.get_queryset().get(pk=board.pk)

    @extend_schema(
        request={"application/json": serializers.BoardUpdateSerializer}, responses=serializers.BoardSerializer
    )
    def partial_update(self, request, *args, **kwargs) -> Response:
        board = gallery.board_for(user=request.user, pk=kwargs["pk"])
        change = serializers.BoardUpdateSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        gallery_services.board_change(board=board, by=request.user, **change.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    def perform_destroy(self, instance) -> None:
        gallery_services.board_delete(board=instance, by=self.request.user)


class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's tags, by name, with how many pictures carry each (tag a picture: PATCH its tags)."""

    serializer_class = serializers.TagSerializer
    pagination_class = None  # an artist's own words: a few dozen

    def get_queryset(self):
        return gallery.tags_for(user=self.request.user)


class ShareLinkViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Links to the caller's boards: random and unguessable, an optional end, downloads only if allowed;
    revoked, a link and its files are dead at once."""

    queryset = ShareLink.objects.none()  # the schema's model; each request reads get_queryset()
    lookup_value_regex = NUMBER
    serializer_class = serializers.ShareLinkSerializer
    pagination_class = NewestFirst

    looks_up = ("create",)  # the board: a 404 unless it is the caller's

    def get_queryset(self):
        links = ShareLink.objects.filter(board__owner=self.request.user).select_related("board")
        if (board := query.integer(self.request, "board")) is not None:
            links = links.filter(board_id=board) if board in query.BIGINT else links.none()
        return links.order_by("-created", "-id")

    def get_serializer_class(self):
        return serializers.ShareLinkCreateSerializer if self.action == "create" else serializers.ShareLinkSerializer

    @extend_schema(
        parameters=[OpenApiParameter("board", int, description="Only this board's links")],
    )
    def list(self, request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=serializers.ShareLinkCreateSerializer, responses={201: serializers.ShareLinkSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        asked = serializers.ShareLinkCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        board = gallery.board_for(user=request.user, pk=asked.validated_data["board"])
        days = asked.validated_data.get("days")
        link = gallery_services.share_link_create(
            board=board,
            by=request.user,
            expires=timezone.now() + timedelta(days=days) if days else None,
            allow_downloads=asked.validated_data["allow_downloads"],
        )
        body = serializers.ShareLinkSerializer(link, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.ShareLinkSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None) -> Response:
        link = get_object_or_404(self.get_queryset(), pk=pk)
        gallery_services.share_link_revoke(link=link, by=request.user)
        link.refresh_from_db()
        return Response(serializers.ShareLinkSerializer(link, context=self.get_serializer_context()).data)


@extend_schema(parameters=[OpenApiParameter("sort", str, enum=list(gallery.EXPLORE_SORTS))])
class ExploreViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Everybody's public pictures, newest or most starred first (read one: GET /api/v1/artworks/{id}/)."""

    serializer_class = serializers.ArtworkSerializer
    pagination_class = ViewCursor

    def _sort(self) -> str:
        return query.choice(self.request, "sort", gallery.EXPLORE_SORTS) or "new"

    def ordering_for(self, request) -> tuple[str, ...]:
        return gallery.EXPLORE_SORTS[self._sort()]

    def list(self, request, *args, **kwargs) -> Response:
        """Kept as the explore page's grid: until a public picture changes, or the caller's stars and tags."""
        try:
            public = listing.current_version(listing.PUBLIC)
        except Exception:  # the cache is unreachable: made afresh
            public = None
        if public is None:
            return super().list(request, *args, **kwargs)
        page = listing.kept(
            request.user.pk,
            ("api-explore", request.build_absolute_uri(), public),
            lambda: super(ExploreViewSet, self).list(request, *args, **kwargs).data,
        )
        return Response(page)

    def get_queryset(self):
        starred = Star.objects.filter(user=self.request.user, artwork=OuterRef("pk"))
        own_tags = Prefetch("tags", queryset=Tag.objects.filter(owner=self.request.user).order_by(Lower("name")))
        return (
            gallery.public_artworks(sort=self._sort())
            .select_related(None)  # the pages show each artist's name; the API's list does not
            .only(*serializers.ARTWORK_FIELDS)
            .annotate(is_starred=Exists(starred))
            .prefetch_related(own_tags)  # the caller's tags on the caller's pictures, in one query
        )


class IdeaViewSet(ChangesAreJson, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """The creative assistant: ask (an idea in words, or a picture), follow the answer as it is written (each
    item once it is finished and has passed the filters: `writing` grows and `draft` holds it as text), cancel
    it, save an idea, delete one. `?saved=1` lists the saved ones."""

    queryset = Idea.objects.none()  # the schema's model; each request reads get_queryset()
    lookup_value_regex = UUID
    state_actions = ("cancel",)  # a 409 once the idea has finished
    pagination_class = NewestFirst
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "head", "post", "patch", "delete"]

    def get_queryset(self):
        ideas = Idea.objects.filter(owner=self.request.user)
        if query.flag(self.request, "saved"):
            ideas = ideas.filter(saved=True)
        return ideas.order_by("-created", "-id")

    def get_object(self) -> Idea:
        return assistant_selectors.idea_for(user=self.request.user, pk=self.kwargs["pk"])

    def get_serializer_class(self):
        return serializers.IdeaCreateSerializer if self.action == "create" else serializers.IdeaSerializer

    @extend_schema(parameters=[OpenApiParameter("saved", bool, description="Only the saved ideas")])
    def list(self, request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": serializers.IdeaCreateSerializer},  # a picture is a file
        responses={201: serializers.IdeaSerializer},
    )
    def create(self, request, *args, **kwargs) -> Response:
        _hold_to_rate(request, group="assistant", rate=settings.ARTSTUDIO_RATE_ASSISTANT)
        asked = serializers.IdeaCreateSerializer(data=request.data)  # types first: the form reads only text
        asked.is_valid(raise_exception=True)
        form = IdeaForm({"text": asked.validated_data.get("text", "")}, request.FILES)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        idea = assistant_services.idea_create(
            owner=request.user, text=form.cleaned_data["text"], picture=form.cleaned_data["picture"]
        )
        body = serializers.IdeaSerializer(idea, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["page"]})

    @extend_schema(request={"application/json": serializers.IdeaUpdateSerializer}, responses=serializers.IdeaSerializer)
    def partial_update(self, request, *args, **kwargs) -> Response:
        idea = self.get_object()
        change = serializers.IdeaUpdateSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        if "saved" in change.validated_data:  # an empty PATCH changes nothing
            assistant_services.idea_save(idea=idea, by=request.user, saved=change.validated_data["saved"])
            idea.refresh_from_db()
        return Response(serializers.IdeaSerializer(idea, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance) -> None:
        assistant_services.idea_delete(idea=instance, by=self.request.user)

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def picture(self, request, pk=None) -> HttpResponseBase:
        idea = self.get_object()
        if not idea.picture:
            raise exceptions.NotFound()
        return send_file(idea.picture)

    @extend_schema(request=None, responses=serializers.IdeaSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None) -> Response:
        """Stop the reading or the writing; the items written so far stay. A 409 once it has finished."""
        with as_conflict():
            idea = assistant_services.idea_cancel(idea=self.get_object(), by=request.user)
        return Response(serializers.IdeaSerializer(idea, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0},
                description="How many characters of the words you have already (0 first)",
            )
        ],
        responses=serializers.WordsSerializer,
    )
    @action(detail=True, methods=["get"])
    def words(self, request, pk=None) -> Response:
        """The words written since `after` characters, each item once it is finished and has passed the filters:
        ask again with `after` set to `next` (Retry-After says when) until `finished` is true; then `writing`
        holds the answer (all of it, or what was written before a cancel). Cheap to ask every second: one row
        read, only the new characters sent."""
        idea = self.get_object()
        start = min(query.whole_number(request, "after") or 0, len(idea.draft))
        body = {
            "status": idea.status,
            "text": idea.draft[start:],
            "next": len(idea.draft),
            "finished": idea.is_finished,
            "writing": idea.writing if idea.status in (Idea.Status.DONE, Idea.Status.CANCELLED) else None,
            "error": idea.error,
        }
        headers = {} if idea.is_finished else {"Retry-After": "1"}
        return Response(serializers.WordsSerializer(body).data, headers=headers)


def _hold_to_rate(request, *, group: str, rate: str) -> None:
    """Count this request against the pages' own rate for `group` (the same counter in Redis): over it, a 429
    with Retry-After and the page's sentence."""
    if over_limit(request._request, group=group, rate=rate):
        period = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(rate.strip()[-1:], 60)
        raise exceptions.Throttled(wait=period, detail=wait_message(rate))


class NoSuchEndpoint(APIView):
    """Any other address under /api/: a 404 in the API's own shape, not the pages' HTML."""

    schema = None  # not an endpoint

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound(_("There is no such endpoint; the list is at /api/docs/."))


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
                token, made = tokens_service.token_create(
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
    tokens_service.token_revoke(token=token, by=request.user)
    messages.success(request, _("The token “%(name)s” is revoked: it works no more.") % {"name": token.name})
    return redirect("api:tokens")
