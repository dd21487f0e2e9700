from django.contrib import admin

from generator.models import Artwork, Job, ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "short_sha", "created")
    list_filter = ("name",)
    search_fields = ("name", "sha256")
    readonly_fields = ("created",)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "percent", "queue", "attempts", "device", "created", "finished")
    list_filter = ("status", "queue", "device", "cancel_requested")
    search_fields = ("id", "owner__username", "error", "worker")
    readonly_fields = ("id", "created", "queued_at", "started", "finished", "attempts", "worker")
    list_select_related = ("owner",)
    date_hierarchy = "created"


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "title", "width", "height", "device", "seconds", "visibility", "created")
    list_filter = ("visibility", "device")
    search_fields = ("id", "title", "owner__username")
    readonly_fields = ("id", "job", "created")
    filter_horizontal = ("models",)
    list_select_related = ("owner",)
