from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api import admin_views, views

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("presets", views.PresetViewSet, basename="preset")
router.register("artworks", views.ArtworkViewSet, basename="artwork")
router.register("jobs", views.JobViewSet, basename="job")
router.register("boards", views.BoardViewSet, basename="board")
router.register("tags", views.TagViewSet, basename="tag")
router.register("links", views.ShareLinkViewSet, basename="link")
router.register("explore", views.ExploreViewSet, basename="explore")
router.register("ideas", views.IdeaViewSet, basename="idea")
router.register("admin/models", admin_views.ModelVersionViewSet, basename="model")
router.register("admin/comparisons", admin_views.ModelComparisonViewSet, basename="comparison")
router.register("admin/training-runs", admin_views.TrainingRunViewSet, basename="training-run")
router.register("admin/moderation", admin_views.ModerationViewSet, basename="moderation")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/admin/workers/", admin_views.WorkersView.as_view(), name="workers"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view: its start-up script is a file of its own, so the Content-Security-Policy needs no exception
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^api/[\s\S]*/$", views.NoSuchEndpoint.as_view(), name="no-such-endpoint"),  # after every other /api/
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
