from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistant import indexing
from assistant.models import Idea, SimilarIndex


@admin.register(Idea)
class IdeaAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "status", "saved", "created")
    list_filter = ("status", "saved")
    search_fields = ("text", "owner__username", "error")
    readonly_fields = (
        "id",
        "owner",
        "text",
        "picture",
        "seen",
        "analysis",
        "writing",
        "draft",
        "status",
        "error",
        "model_versions",
        "created",
        "updated",
    )
    list_select_related = ("owner",)
    date_hierarchy = "created"

    def has_add_permission(self, request) -> bool:
        return False  # ideas come from artists, through the assistant


@admin.register(SimilarIndex)
class SimilarIndexAdmin(admin.ModelAdmin):
    """The similar-works index the studio builds itself (assistant/indexing.py): how far it is, and a way to
    start again one that failed."""

    list_display = ("encoder", "status", "progress", "started", "finished", "updated")
    readonly_fields = ("encoder", "status", "progress", "done", "total", "error", "started", "finished", "updated")
    exclude = ("run",)
    actions = ["build_again"]

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, index: SimilarIndex) -> str:
        if not index.total:
            return "–"
        return _("%(done)s of %(total)s works (%(percent)s %%)") % {
            "done": f"{index.done:,}",
            "total": f"{index.total:,}",
            "percent": index.percent,
        }

    @admin.action(description=gettext_lazy("Build the index again (goes on from the last chunk kept)"))
    def build_again(self, request, queryset) -> None:
        if not queryset.filter(encoder__is_active=True).exists():
            self.message_user(request, _("Only the active sentence encoder's index is built."), messages.WARNING)
            return
        index = indexing.similar_index_ensure(restart=True)
        if index is not None:
            self.message_user(request, _("The index is %(status)s.") % {"status": index.get_status_display().lower()})

    def has_add_permission(self, request) -> bool:
        return False  # the studio makes them, and keeps them while it builds (every field is read-only)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
