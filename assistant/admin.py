from django.contrib import admin

from assistant.models import Idea


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
