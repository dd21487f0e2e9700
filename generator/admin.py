"""The admin: model versions (upload, validate, activate, roll back, dashboard), presets, jobs, artworks.

Every change goes through generator.services; the admin only collects input and shows results.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from generator import selectors, services
from generator.admin_views import workers_view
from generator.http import signed_in_user
from generator.models import Artwork, Job, ModelComparison, ModelVersion, Preset, Quota
from generator.uploads import MODEL_FIELD
from generator.views import send_file

admin.site.site_header = gettext_lazy("Artstudio administration")
admin.site.site_title = gettext_lazy("Artstudio admin")
admin.site.index_title = gettext_lazy("Studio administration")


class ModelVersionUploadForm(forms.ModelForm):
    weights_file = forms.FileField(  # named as uploads.MODEL_FIELD: the one field whose uploads may be large
        label=gettext_lazy("Weights file"),
        help_text=gettext_lazy(
            "A .safetensors file, or a .pt / .pth PyTorch checkpoint (read without running any "
            "code it may carry). It is checked by a worker before it can be activated."
        ),
    )

    class Meta:
        model = ModelVersion
        fields = ("kind", "slot", "label", "licence", "credit", "notes")
        help_texts = {"label": gettext_lazy("A name for this version, e.g. “Mosaic, trained 2026-11”.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # ModelForm.clean returns cleaned_data
        if data.get(MODEL_FIELD) is not None and not data.get("label"):
            data["label"] = self.instance.label = PurePath(data[MODEL_FIELD].name).stem[:120]
        if data.get(MODEL_FIELD) is not None and "kind" in data:
            try:
                services.check_model_upload(kind=data["kind"], slot=data.get("slot", ""), upload=data[MODEL_FIELD])
            except ValidationError as exc:
                self.add_error(None, exc)  # a dict of field errors goes to its fields
        return data


class _Refused(Exception):
    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


class CreatedByService(admin.ModelAdmin):
    """An admin whose add form creates the object through a service (`create`), not `obj.save()`.

    The form's own checks catch what they can; a refusal only the service could see comes back as an
    error message, with nothing kept.
    """

    def create(self, request: HttpRequest, data: dict):
        raise NotImplementedError

    def save_model(self, request, obj, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # the editable fields only
            return
        try:
            created = self.create(request, form.cleaned_data)
        except ValidationError as exc:
            raise _Refused(exc) from None
        obj.pk = created.pk
        obj.refresh_from_db()

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _Refused as refused:
            for message in refused.error.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(ModelVersion)
class ModelVersionAdmin(CreatedByService):
    list_display = (
        "label",
        "kind",
        "slot",
        "status",
        "is_active",
        "source",
        "short_sha",
        "size_mb",
        "smoke_seconds",
        "created",
    )
    list_filter = ("kind", "status", "source", "is_active")
    search_fields = ("label", "slot", "sha256", "notes")
    readonly_fields = (
        "kind",
        "slot",
        "status",
        "reason",
        "is_active",
        "activated_at",
        "sha256",
        "size",
        "source",
        "metrics",
        "sample_picture",
        "created_by",
        "created",
        "artworks_link",
        "sheet_standing",
    )
    fields = (
        "label",
        "kind",
        "slot",
        "status",
        "reason",
        "is_active",
        "activated_at",
        "sample_picture",
        "sha256",
        "size",
        "source",
        "licence",
        "credit",
        "notes",
        "sheet_standing",
        "metrics",
        "created_by",
        "created",
        "artworks_link",
    )
    actions = ("activate", "rollback", "compare")
    change_list_template = "admin/generator/modelversion/change_list.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ModelVersionUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("kind", "slot", "label", MODEL_FIELD, "licence", "credit", "notes")
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def create(self, request: HttpRequest, data: dict) -> ModelVersion:
        version = services.model_version_upload(
            kind=data["kind"],
            slot=data["slot"],
            label=data["label"],
            upload=data[MODEL_FIELD],
            licence=data["licence"],
            credit=data["credit"],
            notes=data["notes"],
            by=signed_in_user(request),
        )
        messages.info(request, _("The weights are being checked by a worker; this page shows the result."))
        return version

    def has_delete_permission(self, request, obj: ModelVersion | None = None) -> bool:
        # Versions are the provenance of artworks: only a rejected upload may go.
        return (
            obj is not None
            and obj.status == ModelVersion.Status.REJECTED
            and super().has_delete_permission(request, obj)
        )

    @admin.display(description=gettext_lazy("MB"))
    def size_mb(self, obj: ModelVersion) -> str:
        return f"{obj.size / 2**20:.1f}" if obj.size else "-"

    @admin.display(description=gettext_lazy("smoke test (s)"))
    def smoke_seconds(self, obj: ModelVersion) -> str:
        seconds = obj.metrics.get("smoke_seconds")
        return f"{seconds:.3f}" if seconds is not None else "-"

    @admin.display(description=gettext_lazy("sample"))
    def sample_picture(self, obj: ModelVersion) -> str:
        if not obj.sample:
            return "-"
        return format_html(
            '<img src="{}" alt="" width="256">', reverse("admin:generator_modelversion_sample", args=[obj.pk])
        )

    @admin.display(description=gettext_lazy("artworks"))
    def artworks_link(self, obj: ModelVersion) -> str:
        url = reverse("admin:generator_artwork_changelist") + f"?model_versions__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("%(n)s artworks") % {"n": obj.artworks.count()})

    @admin.display(description=gettext_lazy("against the active version"))
    def sheet_standing(self, obj: ModelVersion) -> str:
        comparison = obj.comparisons.order_by("-created").first()
        if comparison is None:
            return _("Not compared yet: use the action “Compare with the active version”.")
        url = reverse("admin:generator_modelcomparison_change", args=[comparison.pk])
        if comparison.status != ModelComparison.Status.DONE:
            return format_html('<a href="{}">{}</a>', url, comparison.get_status_display())
        return format_html('<a href="{}">{}</a>', url, comparison.get_verdict_display())

    @admin.action(description=gettext_lazy("Activate the selected version"))
    def activate(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> TemplateResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version to activate."), messages.WARNING)
            return None
        version = queryset.get()
        confirmed = request.POST.get("confirm") == "yes"
        lost = None if confirmed else services.lost_to_active(version)
        if lost is not None:  # an intermediate page, as Django's own "delete selected" has
            context = {
                **self.admin_site.each_context(request),
                "title": _("Activate a version that lost on the evaluation sheet?"),
                "version": version,
                "comparison": lost,
                "lost": services.what_it_lost(lost),
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/generator/modelversion/activate_confirm.html", context)
        self._run(
            request,
            lambda: services.model_version_activate(version=version, by=signed_in_user(request), confirmed=confirmed),
            _("“%(version)s” is now active; the next job uses it."),
        )
        return None

    @admin.action(description=gettext_lazy("Compare with the active version on the evaluation sheet"))
    def compare(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        for version in queryset:
            try:
                comparison = services.comparison_request(version=version, by=signed_in_user(request))
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("“%(version)s” is being compared by a worker; its comparison page shows the progress.")
                    % {"version": version},
                    messages.SUCCESS,
                )
                self.log_change(request, version, f"comparison {comparison.pk} requested")

    @admin.action(description=gettext_lazy("Roll back to the previously active version"))
    def rollback(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        for kind, slot in sorted(set(queryset.values_list("kind", "slot"))):
            self._run(
                request,
                lambda k=kind, s=slot: services.model_version_rollback(kind=k, slot=s, by=signed_in_user(request)),
                _("Rolled back: “%(version)s” is active again."),
            )

    def _run(self, request: HttpRequest, action, success: str) -> None:
        try:
            version = action()
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.log_change(request, version, success % {"version": version})
            self.message_user(request, success % {"version": version}, messages.SUCCESS)

    def get_urls(self):
        own = [
            path(
                "dashboard/", self.admin_site.admin_view(self.dashboard_view), name="generator_modelversion_dashboard"
            ),
            path("workers/", self.admin_site.admin_view(workers_view), name="generator_workers"),
            path(
                "<int:pk>/sample.webp",
                self.admin_site.admin_view(self.sample_view),
                name="generator_modelversion_sample",
            ),
        ]
        return own + super().get_urls()

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Model dashboard"),
            "rows": selectors.model_dashboard(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/generator/model_dashboard.html", context)

    def sample_view(self, request: HttpRequest, pk: int) -> FileResponse:
        return send_file(get_object_or_404(ModelVersion, pk=pk).sample)


# generator/ml/compare.py's measures, in the order a report lists them
MEASURES = {
    "structure": gettext_lazy("structure kept (mean of the two below; higher keeps more of the photo)"),
    "ssim": gettext_lazy("SSIM of the luminance to the photo"),
    "edges": gettext_lazy("edges kept (correlation with the photo's)"),
    "style": gettext_lazy("style distance to the painting (Magenta style vectors; lower is nearer)"),
    "palette": gettext_lazy("palette distance to the painting (CIELAB, about ΔE)"),
    "style_drift": gettext_lazy("style drift from the active version's picture (Magenta style vectors)"),
    "palette_drift": gettext_lazy("palette drift from the active version's picture (CIELAB)"),
    "fine": gettext_lazy("fine-detail share against the painting's (or the photo's)"),
    "gram": gettext_lazy("Gram distance under the perceptual network: what training minimises, not a judge"),
    "gram_drift": gettext_lazy("Gram drift from the active version's picture: what training minimises"),
    "seconds": gettext_lazy("seconds a picture"),
    "peak_mb": gettext_lazy("memory a picture (MiB above the worker's own)"),
}
HEADLINES = {"structure": gettext_lazy("structure kept"), "style": gettext_lazy("style distance to the paintings")}


@admin.register(ModelComparison)
class ModelComparisonAdmin(admin.ModelAdmin):
    """Comparisons are made by the version's action and the command; here they are read."""

    list_display = ("version", "against", "status", "percent", "verdict", "created", "finished")
    list_filter = ("status", "verdict", "version__kind")
    list_select_related = ("version", "against")
    fields = (
        "version",
        "against",
        "status",
        "percent",
        "verdict",
        "side",
        "error",
        "requested_by",
        "created",
        "finished",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record behind a version's standing on the dashboard

    @admin.display(description=gettext_lazy("progress"))
    def percent(self, obj: ModelComparison) -> str:
        return f"{obj.progress:.0%}"

    change_form_template = "admin/generator/modelcomparison/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        comparison = get_object_or_404(ModelComparison, pk=object_id)
        extra = {**(extra_context or {}), **self.report(comparison)}
        return super().change_view(request, object_id, form_url, extra)

    def report(self, obj: ModelComparison) -> dict:
        """The figures as the report template shows them (nothing until the comparison is done)."""
        if obj.status != ModelComparison.Status.DONE:
            return {}
        results = obj.results
        mean = results.get("mean", {})
        cand, ref = mean.get("candidate", {}), mean.get("reference", {})
        measures = [(label, cand.get(m), ref.get(m)) for m, label in MEASURES.items() if m in cand or m in ref]
        styles = [
            (
                name,
                row["candidate"].get("structure"),
                row.get("reference", {}).get("structure"),
                row["candidate"].get("style_drift", row["candidate"].get("style")),
            )
            for name, row in results.get("styles", {}).items()
        ]
        changes = [
            (HEADLINES[m], c, ModelComparison.Verdict(c["is"]).label) for m, c in results.get("changes", {}).items()
        ]
        return {
            "c": obj,
            "r": results,
            "measures": measures,
            "changes": changes,
            "styles": styles if len(styles) > 1 else [],
            "sheet_url": reverse("admin:generator_modelcomparison_sheet", args=[obj.pk]) if obj.sheet else "",
        }

    def get_urls(self):
        own = [
            path(
                "<int:pk>/sheet.webp",
                self.admin_site.admin_view(self.sheet_view),
                name="generator_modelcomparison_sheet",
            )
        ]
        return own + super().get_urls()

    def sheet_view(self, request: HttpRequest, pk: int) -> FileResponse:
        return send_file(get_object_or_404(ModelComparison, pk=pk).sheet)


class PromptLinesField(forms.CharField):
    """A list of example ideas, edited as one idea a line."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value):
        if isinstance(value, str) and value.startswith("["):  # the model form hands over the JSON
            import json

            value = json.loads(value)
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value) -> list[str]:
        lines = [line.strip() for line in (super().clean(value) or "").splitlines()]
        return [line for line in lines if line]


class PresetForm(forms.ModelForm):
    prompts = PromptLinesField(
        label=gettext_lazy("Example ideas"),
        required=False,
        help_text=gettext_lazy(
            "A few ideas this style paints well, one per line; the assistant matches artists' ideas against them."
        ),
    )

    class Meta:
        model = Preset
        fields = ("name", "credit", "tags", "description", "prompts", "position", "hidden")


class PresetPaintingForm(forms.ModelForm):
    prompts = PresetForm.base_fields["prompts"]
    painting_file = forms.FileField(
        label=gettext_lazy("Painting"), help_text=gettext_lazy("A JPEG, PNG or WebP picture of the painting.")
    )

    class Meta:
        model = Preset
        fields = ("name", "slug", "credit", "description", "prompts")
        help_texts = {"slug": gettext_lazy("Leave blank to make one from the name.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        try:
            if data.get("painting_file") is not None:
                services.check_image(data["painting_file"], field="painting_file")
            services.check_preset_slug(data.get("slug") or slugify(data.get("name", ""))[:64])
        except ValidationError as exc:
            self.add_error(None, exc)  # a dict of field errors goes to its fields
        return data


@admin.register(Preset)
class PresetAdmin(CreatedByService):
    list_display = ("thumbnail_picture", "name", "slug", "kind", "credit", "keeps_the_photo", "position", "hidden")
    list_display_links = ("thumbnail_picture", "slug")
    list_editable = ("name", "position", "hidden")
    list_filter = ("kind", "hidden", "shipped")
    search_fields = ("name", "slug", "credit", "description")
    readonly_fields = ("slug", "kind", "network_index", "thumbnail_picture", "keeps_the_photo", "shipped", "created")
    fields = (
        "name",
        "slug",
        "kind",
        "network_index",
        "thumbnail_picture",
        "keeps_the_photo",
        "credit",
        "tags",
        "description",
        "prompts",
        "position",
        "hidden",
        "shipped",
        "created",
    )
    form = PresetForm

    @admin.display(description=gettext_lazy("keeps the photo"), ordering="keeps_photo")
    def keeps_the_photo(self, obj: Preset) -> str:
        """The share of a photo's structure it keeps, and whether the assistant leaves it out for pictures."""
        if obj.keeps_photo is None:
            return _("not measured yet") if not obj.keeps_photo_with else _("could not be measured")
        text = f"{obj.keeps_photo:.0%}"
        if obj.keeps_photo < settings.ARTSTUDIO_ERASES_BELOW:
            return _("%(share)s: erases a photo, not suggested for pictures") % {"share": text}
        return text

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PresetPaintingForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("name", "slug", "painting_file", "credit", "description", "prompts") if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def create(self, request: HttpRequest, data: dict) -> Preset:
        return services.preset_add_painting(
            name=data["name"],
            painting=data["painting_file"],
            credit=data["credit"],
            slug=data["slug"],
            description=data["description"],
            prompts=data["prompts"],
        )

    def has_delete_permission(self, request, obj: Preset | None = None) -> bool:
        return False  # jobs and artworks name their preset: hide it instead

    @admin.display(description=gettext_lazy("thumbnail"))
    def thumbnail_picture(self, obj: Preset) -> str:
        if not obj.thumbnail:
            return "-"
        return format_html(
            '<img src="{}" alt="" width="64" height="64">', reverse("generator:preset-thumbnail", args=[obj.slug])
        )


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "percent", "queue", "attempts", "device", "created", "finished")
    list_filter = ("status", "queue", "device", "cancel_requested")
    search_fields = ("id", "owner__username", "error", "worker")
    readonly_fields = ("id", "created", "queued_at", "started", "finished", "attempts", "worker", "model_versions")
    list_select_related = ("owner",)
    date_hierarchy = "created"


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "title", "width", "height", "device", "seconds", "visibility", "created")
    list_filter = ("visibility", "device", "model_versions")
    search_fields = ("id", "title", "owner__username")
    readonly_fields = ("id", "job", "created", "model_versions")
    list_select_related = ("owner",)


class QuotaForm(forms.ModelForm):
    """Says under each number what a blank one means: the studio's default as the settings hold it now
    (read when the form is made, not when the module is imported)."""

    class Meta:
        model = Quota
        fields = ["active_jobs", "jobs_per_day", "storage_mb"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active, per_day, storage = (
            settings.ARTSTUDIO_QUOTA_ACTIVE_JOBS,
            settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY,
            settings.ARTSTUDIO_QUOTA_STORAGE_MB,
        )
        defaults = {
            "active_jobs": ngettext(
                "Blank: the studio's default, %(n)s job queued or running at once (%(setting)s).",
                "Blank: the studio's default, %(n)s jobs queued or running at once (%(setting)s).",
                active,
            )
            % {"n": active, "setting": "ARTSTUDIO_QUOTA_ACTIVE_JOBS"},
            "jobs_per_day": ngettext(
                "Blank: the studio's default, %(n)s job a day (%(setting)s).",
                "Blank: the studio's default, %(n)s jobs a day (%(setting)s).",
                per_day,
            )
            % {"n": per_day, "setting": "ARTSTUDIO_QUOTA_JOBS_PER_DAY"},
            "storage_mb": _("Blank: the studio's default, %(n)s MB (%(setting)s).")
            % {"n": storage, "setting": "ARTSTUDIO_QUOTA_STORAGE_MB"},
        }
        for name, default in defaults.items():
            field = self.fields[name]
            field.help_text = f"{field.help_text} {default}" if field.help_text else default


class QuotaInline(admin.StackedInline):
    """An artist's own limits, on their user page; blank numbers take the studio's defaults."""

    model = Quota
    form = QuotaForm
    can_delete = False
    max_num = 1
    verbose_name_plural = gettext_lazy("Quota (blank: the studio's default)")
    readonly_fields = ["in_use"]
    fields = ["active_jobs", "jobs_per_day", "storage_mb", "in_use"]

    @admin.display(description=gettext_lazy("in use now"))
    def in_use(self, quota: Quota) -> str:
        if not quota.user_id:
            return "—"
        usage = selectors.usage_for(user=quota.user)
        return _(
            "%(active)s of %(active_limit)s jobs waiting or running · %(today)s of %(day_limit)s jobs today · "
            "%(stored)s of %(storage_limit)s"
        ) % {
            "active": usage.active_jobs.used,
            "active_limit": usage.active_jobs.limit,
            "today": usage.jobs_today.used,
            "day_limit": usage.jobs_today.limit,
            "stored": filesizeformat(usage.storage.used),
            "storage_limit": filesizeformat(usage.storage.limit),
        }


admin.site.unregister(User)


@admin.register(User)
class ArtistAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, QuotaInline]
