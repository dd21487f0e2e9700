"""The admin's endpoints (/api/v1/admin/): the model registry, the moderation queue, the workers and their queues.

Staff only, and with a token, one holding the admin scope (api.permissions.AdminScope). Each endpoint calls the
service the admin's own pages call, so an action here and a button there cannot disagree.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import query, serializers
from api.errors import Conflict, as_conflict
from api.pagination import NewestFirst, OldestRequestFirst
from api.permissions import AdminScope
from api.query import NUMBER, UUID
from gallery import services as gallery_services
from gallery.models import Decision, Moderation, ModerationStatus
from generator import services
from generator.models import ModelComparison, ModelVersion, TrainingRun
from generator.uploads import MODEL_FIELD
from generator.views import send_file
from generator.worker_status import dashboard_context


def json_body(request):
    """The body of an action that takes JSON (or nothing). Checked here, after the CSRF check, not by the route's
    parsers: those parse the body inside the check itself, so a form without a token would be a 415, not a 403."""
    if int(request.META.get("CONTENT_LENGTH") or 0) and not request.content_type.startswith("application/json"):
        raise exceptions.UnsupportedMediaType(request.content_type)
    return request.data


class BrokerDown(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "broker_unavailable"


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=list(ModelVersion.Kind.values)),
            OpenApiParameter("status", str, enum=list(ModelVersion.Status.values)),
        ]
    )
)
class ModelVersionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The model registry: every version of every kind, newest first; upload one (a worker validates it), check
    a stuck one again, activate a ready one, roll a kind back to the version active before."""

    permission_classes = [AdminScope]
    state_actions = ("validate", "activate", "rollback", "compare")  # a 409 when the version's state does not allow it
    queryset = ModelVersion.objects.none()  # the schema's model; each request reads get_queryset()
    lookup_value_regex = NUMBER
    pagination_class = NewestFirst
    parser_classes = [MultiPartParser, FormParser, JSONParser]  # weights are a file; the actions take JSON

    def get_queryset(self):
        versions = ModelVersion.objects.select_related("created_by")
        if self.action != "list":
            return versions
        if kind := query.choice(self.request, "kind", ModelVersion.Kind.values):
            versions = versions.filter(kind=kind)
        if state := query.choice(self.request, "status", ModelVersion.Status.values):
            versions = versions.filter(status=state)
        return versions

    def get_serializer_class(self):
        return (
            serializers.ModelVersionUploadSerializer if self.action == "create" else serializers.ModelVersionSerializer
        )

    def _answer(self, version: ModelVersion, code: int = status.HTTP_200_OK) -> Response:
        version = self.get_queryset().get(pk=version.pk)
        return Response(serializers.ModelVersionSerializer(version, context=self.get_serializer_context()).data, code)

    @extend_schema(
        request=serializers.ModelVersionUploadSerializer, responses={201: serializers.ModelVersionSerializer}
    )
    def create(self, request, *args, **kwargs) -> Response:
        """Keep the weights as a version in `validating`; a `cpu` worker checks them, and the version becomes
        `ready` (with its sample picture and smoke-test time) or `rejected` with the reason."""
        asked = serializers.ModelVersionUploadSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        version = services.model_version_upload(
            kind=data["kind"],
            slot=data["slot"],
            label=data["label"],
            upload=data[MODEL_FIELD],
            licence=data["licence"],
            credit=data["credit"],
            notes=data["notes"],
            by=request.user,
        )
        return self._answer(version, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.ModelVersionSerializer)
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None) -> Response:
        """Have a worker check a version still `validating` again (its check was lost with a worker or the
        broker); a version already checked keeps its answer."""
        version = self.get_object()
        if version.status != ModelVersion.Status.VALIDATING:
            raise Conflict(
                _("This version has been checked already: it is %(status)s.")
                % {"status": version.get_status_display().lower()}
            )
        services.model_version_validate_later(version_id=version.pk)
        return self._answer(version)

    @extend_schema(
        request={"application/json": serializers.ActivateSerializer}, responses=serializers.ModelVersionSerializer
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None) -> Response:
        """Make it the version that paints for its kind (and style); the next job uses it. A version that lost to
        the active one on the evaluation sheet needs `confirm`."""
        asked = serializers.ActivateSerializer(data=json_body(request))
        asked.is_valid(raise_exception=True)
        with as_conflict():
            version = services.model_version_activate(
                version=self.get_object(), by=request.user, confirmed=asked.validated_data["confirm"]
            )
        return self._answer(version)

    @extend_schema(
        request={"application/json": serializers.CompareSerializer},
        responses={202: serializers.ModelComparisonSerializer},
    )
    @action(detail=True, methods=["post"])
    def compare(self, request, pk=None) -> Response:
        """Have a worker paint the evaluation sheet with this version and the active one and measure both (a
        painting network, ready and not active; else a 409). The comparison's own endpoint shows its progress."""
        asked = serializers.CompareSerializer(data=json_body(request))
        asked.is_valid(raise_exception=True)
        with as_conflict():
            comparison = services.comparison_request(
                version=self.get_object(), by=request.user, side=asked.validated_data["side"]
            )
        body = serializers.ModelComparisonSerializer(comparison, context=self.get_serializer_context()).data
        return Response(body, status.HTTP_202_ACCEPTED)

    @extend_schema(request=serializers.RollbackSerializer, responses=serializers.ModelVersionSerializer)
    @action(detail=False, methods=["post"])
    def rollback(self, request) -> Response:
        """Activate again the version of a kind (and style) that was active before the current one."""
        asked = serializers.RollbackSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        with as_conflict():
            version = services.model_version_rollback(by=request.user, **asked.validated_data)
        return self._answer(version)

    @extend_schema(responses={(200, "image/webp"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def sample(self, request, pk=None) -> HttpResponseBase:
        """The picture its validation painted; 404 until it is ready."""
        version = self.get_object()
        if not version.sample:
            raise exceptions.NotFound()
        return send_file(version.sample)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "version", {"type": "integer", "minimum": 0}, description="Only this version's comparisons"
            )
        ]
    )
)
class ModelComparisonViewSet(viewsets.ReadOnlyModelViewSet):
    """Versions compared with the active one on the evaluation sheet, newest first: their progress, the measures,
    the verdict and the contact sheet."""

    permission_classes = [AdminScope]
    queryset = ModelComparison.objects.none()  # the schema's model; each request reads get_queryset()
    serializer_class = serializers.ModelComparisonSerializer
    lookup_value_regex = NUMBER
    pagination_class = NewestFirst

    def get_queryset(self):
        comparisons = ModelComparison.objects.all()
        if self.action == "list" and (version := query.whole_number(self.request, "version")) is not None:
            comparisons = comparisons.filter(version_id=version)
        return comparisons

    @extend_schema(responses={(200, "image/webp"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def sheet(self, request, pk=None) -> HttpResponseBase:
        """The contact sheet; 404 until the comparison is done."""
        comparison = self.get_object()
        if not comparison.sheet:
            raise exceptions.NotFound()
        return send_file(comparison.sheet)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("status", str, enum=list(TrainingRun.Status.values))])
)
class TrainingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Styles trained from a painting by a worker, newest first: start one, follow its step, losses and samples,
    cancel it; a run that is done made a new inactive version, compared with the active one."""

    permission_classes = [AdminScope]
    queryset = TrainingRun.objects.none()  # the schema's model; each request reads get_queryset()
    lookup_value_regex = NUMBER
    pagination_class = NewestFirst
    parser_classes = [MultiPartParser, FormParser, JSONParser]  # the painting and photos are files

    def get_queryset(self):
        runs = TrainingRun.objects.select_related("requested_by", "version")
        if self.action == "list" and (state := query.choice(self.request, "status", TrainingRun.Status.values)):
            runs = runs.filter(status=state)
        return runs

    def get_serializer_class(self):
        return serializers.TrainingRequestSerializer if self.action == "create" else serializers.TrainingRunSerializer

    def _answer(self, run: TrainingRun, code: int = status.HTTP_200_OK) -> Response:
        run = self.get_queryset().get(pk=run.pk)
        return Response(serializers.TrainingRunSerializer(run, context=self.get_serializer_context()).data, code)

    @extend_schema(request=serializers.TrainingRequestSerializer, responses={202: serializers.TrainingRunSerializer})
    def create(self, request, *args, **kwargs) -> Response:
        """Check everything and queue the run for a worker on the `gpu` queue (a 400 says what is wrong, and
        nothing is kept)."""
        asked = serializers.TrainingRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        if not isinstance(data["options"], dict):
            raise exceptions.ValidationError({"options": [_("The settings are a JSON object of names and values.")]})
        run = services.training_request(by=request.user, **data)
        return self._answer(run, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=serializers.TrainingRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None) -> Response:
        """Stop the run (within seconds when it is training); it registers nothing. A 409 once it has ended."""
        run = self.get_object()
        if run.is_finished:
            raise Conflict(
                _("This run has ended already: it is %(status)s.") % {"status": run.get_status_display().lower()}
            )
        return self._answer(services.training_cancel(run=run))

    @extend_schema(
        parameters=[
            OpenApiParameter("step", {"type": "integer", "minimum": 0}, required=True),
            OpenApiParameter("photo", {"type": "integer", "minimum": 0}, required=True),
        ],
        responses={(200, "image/webp"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def sample(self, request, pk=None) -> HttpResponseBase:
        """One sample picture: the photo `photo` (0 or 1) as the network painted it at step `step`."""
        run = self.get_object()
        step, photo = query.whole_number(request, "step"), query.whole_number(request, "photo")
        found = next((s["pictures"] for s in run.samples if s["step"] == step), None)
        if found is None or photo is None or photo >= len(found):
            raise exceptions.NotFound()
        return FileResponse(default_storage.open(found[photo], "rb"), content_type="image/webp")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "all", bool, description="Every check, not only the pictures waiting for a decision (the default)"
            )
        ]
    )
)
class ModerationViewSet(viewsets.ReadOnlyModelViewSet):
    """The moderation queue: pictures the nudity check flagged or could not check wait here for a decision
    (the oldest request first); approve one (it goes public if its artist asked), reject one, check again."""

    permission_classes = [AdminScope]
    queryset = Moderation.objects.none()  # the schema's model; each request reads get_queryset()
    lookup_field = "artwork"
    lookup_value_regex = UUID
    serializer_class = serializers.ModerationSerializer
    pagination_class = OldestRequestFirst

    def get_queryset(self):
        checks = Moderation.objects.select_related("artwork", "artwork__owner", "decided_by")
        if self.action == "list" and not query.flag(self.request, "all"):
            checks = checks.filter(
                status__in=[ModerationStatus.FLAGGED, ModerationStatus.UNAVAILABLE], decision=Decision.NONE
            )
        return checks

    def _answer(self, moderation: Moderation) -> Response:
        moderation = Moderation.objects.select_related("artwork", "artwork__owner", "decided_by").get(pk=moderation.pk)
        return Response(serializers.ModerationSerializer(moderation, context=self.get_serializer_context()).data)

    def get_object(self) -> Moderation:
        return get_object_or_404(
            Moderation.objects.select_related("artwork", "artwork__owner", "decided_by"),
            artwork_id=self.kwargs["artwork"],
        )

    @extend_schema(request=None, responses=serializers.ModerationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, artwork=None) -> Response:
        return self._answer(
            gallery_services.moderation_decide(moderation=self.get_object(), by=request.user, approve=True)
        )

    @extend_schema(request=None, responses=serializers.ModerationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, artwork=None) -> Response:
        return self._answer(
            gallery_services.moderation_decide(moderation=self.get_object(), by=request.user, approve=False)
        )

    @extend_schema(request=None, responses=serializers.ModerationSerializer)
    @action(detail=True, methods=["post"])
    def recheck(self, request, artwork=None) -> Response:
        """Run the check again (a model was activated since, or the broker is back); the decision is cleared."""
        moderation = self.get_object()
        gallery_services.moderation_recheck(moderation=moderation)
        return self._answer(moderation)

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def picture(self, request, artwork=None) -> HttpResponseBase:
        response = send_file(self.get_object().artwork.image)
        response["Cache-Control"] = "private, no-store"
        return response


class WorkersView(APIView):
    """The workers online (their queues, pool, device, what they run now) and how many jobs wait in each queue;
    503 when the broker cannot be reached."""

    permission_classes = [AdminScope]

    @extend_schema(responses={200: serializers.WorkersSerializer, 503: serializers.ErrorsSerializer})
    def get(self, request) -> Response:
        context = dashboard_context()
        if context["error"]:
            raise BrokerDown(context["error"])
        body = {
            "workers": context["workers"],
            "queues": [{"name": name, "waiting": waiting} for name, waiting in context["queues"]],
        }
        return Response(serializers.WorkersSerializer(body).data)
