"""The admin's moderation queue: pictures the nudity check flagged or could not check wait here for a decision."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gallery import services
from gallery.models import Decision, Moderation, ModerationStatus
from generator.http import signed_in_user


class WaitingFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("yes", _("Waiting for a decision")), ("no", _("Decided or safe"))]

    def queryset(self, request, queryset):
        waiting = {"status__in": [ModerationStatus.FLAGGED, ModerationStatus.UNAVAILABLE], "decision": Decision.NONE}
        if self.value() == "yes":
            return queryset.filter(**waiting)
        if self.value() == "no":
            return queryset.exclude(**waiting)
        return queryset


@admin.register(Moderation)
class ModerationAdmin(admin.ModelAdmin):
    list_display = ("picture", "artwork_title", "owner", "status", "score", "decision", "wants_public", "requested")
    list_filter = (WaitingFilter, "status", "decision", "wants_public")
    search_fields = ("artwork__title", "artwork__owner__username", "reason")
    list_select_related = ("artwork", "artwork__owner")
    readonly_fields = (
        "picture_large",
        "artwork",
        "status",
        "score",
        "threshold",
        "model_version",
        "reason",
        "wants_public",
        "requested",
        "checked",
        "decision",
        "decided_by",
        "decided",
    )
    fields = readonly_fields
    actions = ("approve", "reject", "check_again")
    date_hierarchy = "requested"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a check starts when an artist asks to publish

    def has_delete_permission(self, request: HttpRequest, obj: Moderation | None = None) -> bool:
        return False  # it goes with its picture

    def changelist_view(self, request, extra_context=None):
        if "waiting" not in request.GET and not request.GET.get("q") and "status__exact" not in request.GET:
            request.GET = request.GET.copy()
            request.GET["waiting"] = "yes"  # the queue opens on what needs a decision
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("picture"))
    def picture(self, obj: Moderation) -> str:
        url = reverse("gallery:moderation-picture", args=[obj.artwork_id])
        return format_html('<img src="{}" alt="" width="96" height="96" style="object-fit:cover">', url)

    @admin.display(description=_("picture"))
    def picture_large(self, obj: Moderation) -> str:
        url = reverse("gallery:moderation-picture", args=[obj.artwork_id])
        return format_html('<img src="{}" alt="" style="max-width:640px;max-height:640px">', url)

    @admin.display(description=_("title"), ordering="artwork__title")
    def artwork_title(self, obj: Moderation) -> str:
        return obj.artwork.title or "-"

    @admin.display(description=_("artist"), ordering="artwork__owner__username")
    def owner(self, obj: Moderation) -> str:
        return obj.artwork.owner.get_username()

    @admin.action(description=_("Approve: the pictures may be public"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Moderation]) -> None:
        for moderation in queryset:
            services.moderation_decide(moderation=moderation, by=signed_in_user(request), approve=True)
        self.message_user(request, _("Approved."), messages.SUCCESS)

    @admin.action(description=_("Reject: the pictures stay private"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Moderation]) -> None:
        for moderation in queryset:
            services.moderation_decide(moderation=moderation, by=signed_in_user(request), approve=False)
        self.message_user(request, _("Rejected."), messages.SUCCESS)

    @admin.action(description=_("Check again with the active model"))
    def check_again(self, request: HttpRequest, queryset: QuerySet[Moderation]) -> None:
        for moderation in queryset:
            services.moderation_recheck(moderation=moderation)
        self.message_user(request, _("The pictures are being checked again."), messages.SUCCESS)
