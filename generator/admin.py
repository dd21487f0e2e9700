"""The admin: model versions (upload, validate, activate, roll back, dashboard), presets, jobs, artworks.

Every change goes through generator.services; the admin only collects input and shows results.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminRadioSelect
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from generator import selectors, services
from generator.admin_views import workers_view
from generator.http import signed_in_user
from generator.ml.errors import StyleError
from generator.models import TRAINABLE_KINDS, Artwork, Job, ModelComparison, ModelVersion, Preset, Quota, TrainingRun
from generator.services.training_runs import check_model_upload_slot, check_new_style_slot
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
    "blotches": gettext_lazy("share of the photo's flat regions (a clear sky) blotted; lower is better"),
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


# --- Training runs ----------------------------------------------------------------------------------------

NEW_STYLE = "new_style"  # the add form's third choice: the 26-style network, a style added to it
TRAIN_SETTINGS = ("steps", "size", "lr", "style_weight", "content_weight", "tone_weight")  # the few the form offers
IMAGE_TYPES = "image/jpeg,image/png,image/webp"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input, as Django's docs ("Uploading multiple files") make it; always a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": IMAGE_TYPES}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        single_file_clean = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        return [single_file_clean(f, initial) for f in files if f]


def _setting_default(name: str) -> str:
    """What a blank setting becomes: the default for what is trained on the worker's device."""
    from generator.ml.train_settings import TrainSettings  # loaded by the add form only (tests/web/test_boundaries.py)

    value = {
        (kind, device): f"{getattr(TrainSettings.defaults(kind, device), name):g}"
        for kind in TRAINABLE_KINDS
        for device in ("cpu", "cuda")
    }
    if len(set(value.values())) == 1:
        return _("Default: %(value)s.") % {"value": value["multistyle26", "cpu"]}
    return _(
        "Default for a fine-tuned style: %(m_cpu)s on a CPU, %(m_gpu)s on a GPU; for a single-style network: "
        "%(s_cpu)s on a CPU, %(s_gpu)s on a GPU."
    ) % {
        "m_cpu": value["multistyle26", "cpu"],
        "m_gpu": value["multistyle26", "cuda"],
        "s_cpu": value["transformer_net", "cpu"],
        "s_gpu": value["transformer_net", "cuda"],
    }


class TrainingRunForm(forms.ModelForm):
    """The add form. Its fields are named as training_request's arguments, so a refusal keyed by field lands on
    its field; only name and credit are the model's own (the run's constraints are the service's to keep)."""

    kind = forms.ChoiceField(
        label=gettext_lazy("What to train"),
        choices=[
            ("multistyle26", gettext_lazy("Fine-tune one of the 26 styles")),
            (NEW_STYLE, gettext_lazy("A new style of the 26-style network")),
            ("transformer_net", gettext_lazy("A single-style network")),
        ],
        initial="multistyle26",
        widget=AdminRadioSelect(attrs={"class": "radiolist"}),
    )
    style_index = forms.TypedChoiceField(
        label=gettext_lazy("Style"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy("Fine-tuning: the one of the 26 styles that learns; the other 25 stay as they are."),
    )
    slot = forms.SlugField(
        label=gettext_lazy("Short name"),
        max_length=64,
        required=False,
        help_text=gettext_lazy(
            "A new style or a single-style network: letters, digits and hyphens, e.g. “great-wave”. A new short "
            "name makes a new style; a single-style network's makes a new version of it."
        ),
    )
    start_from = forms.ModelChoiceField(
        label=gettext_lazy("Start from"),
        queryset=ModelVersion.objects.none(),
        required=False,
        help_text=gettext_lazy(
            "A ready version of the network that is trained. Blank: the active 26-style network, or a "
            "single-style network from scratch."
        ),
    )
    painting_preset = forms.ModelChoiceField(
        label=gettext_lazy("Painting preset"),
        queryset=Preset.objects.none(),
        required=False,
        help_text=gettext_lazy("The painting of one of the studio's painting presets, or upload one below."),
    )
    painting = forms.FileField(
        label=gettext_lazy("Upload a painting"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_TYPES}),
        help_text=gettext_lazy(
            "A JPEG, PNG or WebP picture. A new style and a single-style network need a painting. A fine-tuned "
            "style may go without one: then it learns from its own pictures, to keep more of the photo."
        ),
    )
    shipped_photos = forms.BooleanField(
        label=gettext_lazy("Use the shipped training photos"), initial=True, required=False
    )
    photos = MultipleFileField(
        label=gettext_lazy("Upload content photos"),
        required=False,
        help_text=gettext_lazy("Photos to learn on besides (or instead of) the shipped ones; choose several at once."),
    )
    steps = forms.IntegerField(label=gettext_lazy("Steps"), min_value=1, max_value=1_000_000, required=False)
    size = forms.IntegerField(
        label=gettext_lazy("Crop size (px)"), min_value=64, max_value=1024, step_size=4, required=False
    )
    lr = forms.FloatField(label=gettext_lazy("Learning rate"), min_value=0, max_value=1, required=False)
    style_weight = forms.FloatField(label=gettext_lazy("Style weight"), min_value=0, required=False)
    content_weight = forms.FloatField(label=gettext_lazy("Content weight"), min_value=0, required=False)
    tone_weight = forms.FloatField(
        label=gettext_lazy("Coarse tone weight (keeps a clear sky clear)"), min_value=0, required=False
    )

    class Meta:
        model = TrainingRun
        fields = ("name", "credit")
        help_texts = {
            "name": gettext_lazy("The new version's label, and a new style's name, e.g. “The Great Wave”."),
            "credit": gettext_lazy("Who painted it, and when. Blank: the painting preset's credit."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        styles = Preset.objects.filter(kind=Preset.Kind.NETWORK).order_by("network_index")
        self.fields["style_index"].choices = [("", "---------")] + [(p.network_index, p.name) for p in styles]
        self.fields["start_from"].queryset = ModelVersion.objects.filter(
            kind__in=TRAINABLE_KINDS, status=ModelVersion.Status.READY
        ).order_by("kind", "slot", "-created")
        self.fields["painting_preset"].queryset = (
            Preset.objects.filter(kind=Preset.Kind.PAINTING).exclude(painting="").order_by("position", "name")
        )
        for name in TRAIN_SETTINGS:  # read when the form is made, as QuotaForm's defaults are
            self.fields[name].help_text = _setting_default(name)

    def clean(self) -> dict[str, Any]:
        """What can be checked before anything is written, shown on its field; training_request checks it all
        again (and what only it can) when it makes the run."""
        data = super().clean()
        assert data is not None  # ModelForm.clean returns cleaned_data
        data["new_style"] = data.get("kind") == NEW_STYLE
        if data["new_style"]:
            data["kind"], data["style_index"] = "multistyle26", None
        kind = data.get("kind")
        if kind == "multistyle26" and not data["new_style"] and data.get("style_index") is None:
            self.add_error("style_index", _("Choose which of the 26 styles learns."))
        if data["new_style"] and not data.get("slot") and "slot" not in self.errors:
            self.add_error("slot", _("A new style needs a short name for its preset (letters, digits, -)."))
        if data["new_style"] and not data.get("painting") and not data.get("painting_preset"):
            self.add_error("painting", _("A new style learns from a painting: pick one or upload one."))
        if kind == "transformer_net" and not data.get("slot") and "slot" not in self.errors:
            self.add_error("slot", _("A single-style network needs a short name for its style."))
        if kind == "transformer_net" and not data.get("painting") and not data.get("painting_preset"):
            self.add_error("painting", _("A single-style network learns from a painting: pick one or upload one."))
        if data.get("painting") and data.get("painting_preset"):
            self.add_error("painting", _("Pick a painting or upload one, not both."))
        start_from = data.get("start_from")
        if start_from is not None and kind and start_from.kind != kind:
            self.add_error("start_from", _("Start from a version of the network that is trained, or from nothing."))
        if not data.get("shipped_photos") and not data.get("photos") and "photos" not in self.errors:
            self.add_error("photos", _("Training needs content photos: keep the shipped ones or upload some."))
        try:
            if kind == "transformer_net" and data.get("slot"):
                check_model_upload_slot(data["slot"])
            if data["new_style"] and data.get("slot"):
                check_new_style_slot(data["slot"])
            if data.get("painting"):
                services.check_image(data["painting"], field="painting")
            for photo in data.get("photos") or []:
                services.check_image(photo, field="photos")
        except ValidationError as exc:
            self.add_error(None, exc)  # a dict of field errors goes to its fields
        if kind:
            from generator.ml.train_settings import TrainSettings

            try:
                TrainSettings.with_changes(kind, "cpu", **options_of(data))
            except StyleError as exc:
                self.add_error(None, str(exc))
        return data


def options_of(data: dict) -> dict[str, int | float]:
    """The settings the form was given; a blank one is left to the worker's device."""
    return {name: data[name] for name in TRAIN_SETTINGS if data.get(name) is not None}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds >= 3600:
        return _("%(h)d h %(m)02d min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}
    if seconds >= 60:
        return _("%(m)d min %(s)02d s") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(s)d s") % {"s": seconds}


@admin.register(TrainingRun)
class TrainingRunAdmin(CreatedByService):
    """Runs are started here and watched: the change page is read-only, with a live panel that
    static/js/admin-training.js keeps up to date from status.json. Only the services change a run."""

    list_display = ("name", "what", "status", "progress", "speed", "requested_by", "created")
    list_filter = ("status", "kind")
    list_select_related = ("requested_by",)
    search_fields = ("name", "slot")
    fields = (
        "name",
        "what",
        "start_from",
        "painting_picture",
        "credit",
        "content_photos",
        "training_settings",
        "device",
        "worker",
        "attempts",
        "requested_by",
        "created",
        "started",
        "finished",
    )
    readonly_fields = fields
    add_fieldsets = (
        (None, {"fields": ("name", "kind", "style_index", "slot", "start_from")}),
        (gettext_lazy("Painting"), {"fields": ("painting_preset", "painting", "credit")}),
        (gettext_lazy("Content photos"), {"fields": ("shipped_photos", "photos")}),
        (
            gettext_lazy("Settings"),
            {
                "fields": TRAIN_SETTINGS,
                "description": gettext_lazy(
                    "Leave them blank for the defaults, which suit what is trained and the worker's device (CPU "
                    "or GPU)."
                ),
            },
        ),
    )
    change_form_template = "admin/generator/trainingrun/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainingRun]:
        style = Preset.objects.filter(kind=Preset.Kind.NETWORK, network_index=OuterRef("style_index"))
        return super().get_queryset(request).annotate(style_name=Subquery(style.values("name")[:1]))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:  # the form's other fields are its own, not the model's
            kwargs.update(form=TrainingRunForm, fields=TrainingRunForm.Meta.fields)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def create(self, request: HttpRequest, data: dict) -> TrainingRun:
        return services.training_request(
            name=data["name"],
            kind=data["kind"],
            by=signed_in_user(request),
            style_index=data["style_index"],
            new_style=data["new_style"],
            slot=data["slot"],
            start_from=data["start_from"],
            painting=data["painting"],
            painting_preset=data["painting_preset"],
            credit=data["credit"],
            photos=data["photos"],
            shipped_photos=data["shipped_photos"],
            options=options_of(data),
        )

    def response_add(self, request: HttpRequest, obj: TrainingRun, post_url_continue=None) -> HttpResponseRedirect:
        self.message_user(
            request,
            _("“%(run)s” waits for a worker; this page shows it training.") % {"run": obj.name},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:generator_trainingrun_change", args=[obj.pk]))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a run is the worker's to change; the admin may only cancel it

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record of how a version was made

    def may_cancel(self, request: HttpRequest, run: TrainingRun) -> bool:
        return not run.is_finished and super().has_change_permission(request, run)

    # -- the list and the read-only fields

    @admin.display(description=gettext_lazy("what"))
    def what(self, obj: TrainingRun) -> str:
        if obj.new_style:
            return _("26-style network: new style %(name)s") % {"name": obj.name}
        if obj.kind == "multistyle26":
            style = getattr(obj, "style_name", None) or f"#{obj.style_index}"
            return _("26-style network: %(style)s") % {"style": style}
        return _("Single-style network: %(slot)s") % {"slot": obj.slot}

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, obj: TrainingRun) -> str:
        return f"{obj.step} / {obj.steps if obj.steps is not None else '–'}"

    @admin.display(description=gettext_lazy("steps/s"), ordering="steps_per_second")
    def speed(self, obj: TrainingRun) -> str:
        return f"{obj.steps_per_second:.2f}" if obj.steps_per_second else "–"

    @admin.display(description=gettext_lazy("painting"))
    def painting_picture(self, obj: TrainingRun) -> str:
        if not obj.painting:
            return _("None: the style learns from its own pictures.")
        url = reverse("admin:generator_trainingrun_painting", args=[obj.pk])
        return format_html('<a href="{}"><img src="{}" alt="{}" class="training-painting"></a>', url, url, obj.name)

    @admin.display(description=gettext_lazy("content photos"))
    def content_photos(self, obj: TrainingRun) -> str:
        uploaded = ngettext("%(n)s uploaded photo", "%(n)s uploaded photos", len(obj.photos)) % {"n": len(obj.photos)}
        if not obj.shipped_photos:
            return uploaded
        if not obj.photos:
            return _("the shipped training photos")
        return _("the shipped training photos and %(uploaded)s") % {"uploaded": uploaded}

    @admin.display(description=gettext_lazy("settings"))
    def training_settings(self, obj: TrainingRun) -> str:
        if not obj.options:
            return _("the defaults for the worker's device")
        return ", ".join(f"{name} {value:g}" for name, value in obj.options.items())

    # -- the live panel

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = get_object_or_404(TrainingRun, pk=object_id)
        extra = {
            **(extra_context or {}),
            "live": self.live(run),
            "may_cancel": self.may_cancel(request, run),
            "status_url": reverse("admin:generator_trainingrun_status", args=[run.pk]),
            "cancel_url": reverse("admin:generator_trainingrun_cancel", args=[run.pk]),
            "chart_words": {
                "step": _("step"),
                "style": _("style"),
                "content": _("content"),
                "tv": _("smoothness (tv)"),
                "total": _("total"),
                "loss": _("loss (log scale)"),
                "sample": _("Step %(step)s, photo %(photo)s"),
            },
        }
        return super().change_view(request, object_id, form_url, extra)

    def live(self, run: TrainingRun) -> dict:
        """What the live panel shows, as status.json sends it: the figures as numbers and as text, the loss
        curves as columns, the samples' addresses (step 0 first), and the outcome."""
        left = None
        if run.status == TrainingRun.Status.RUNNING and run.steps and run.steps_per_second:
            left = max(0, run.steps - run.step) / run.steps_per_second
        samples = sorted(run.samples, key=lambda s: s["step"])
        comparison = run.version.comparisons.order_by("-created").first() if run.version else None
        return {
            "status": run.status,
            "finished": run.is_finished,
            "step": run.step,
            "steps": run.steps,
            "steps_per_second": run.steps_per_second,
            "seconds": run.seconds,
            "seconds_left": left,
            "text": {
                "status": run.get_status_display(),
                "progress": self.progress(run),
                "speed": self.speed(run),
                "left": _duration(left),
                "elapsed": _duration(run.seconds),
            },
            "losses": services.run_losses(run),
            "samples": [
                {
                    "step": s["step"],
                    "pictures": [
                        reverse("admin:generator_trainingrun_sample", args=[run.pk, s["step"], i])
                        + f"?v={PurePath(name).stem}"  # a step sampled again (a resumed slice) is a new picture
                        for i, name in enumerate(s["pictures"])
                    ],
                }
                for s in samples
            ],
            "error": run.error,
            "version": (
                {"url": reverse("admin:generator_modelversion_change", args=[run.version.pk]), "text": str(run.version)}
                if run.version
                else None
            ),
            "comparison": (
                {
                    "url": reverse("admin:generator_modelcomparison_change", args=[comparison.pk]),
                    "text": _("Its comparison with the active version: %(result)s")
                    % {
                        "result": comparison.get_verdict_display()
                        if comparison.status == ModelComparison.Status.DONE
                        else comparison.get_status_display()
                    },
                }
                if comparison
                else None
            ),
        }

    def get_urls(self):
        own = [
            path(
                "<int:pk>/status.json",
                self.admin_site.admin_view(self.status_view),
                name="generator_trainingrun_status",
            ),
            path(
                "<int:pk>/sample/<int:step>/<int:i>.webp",
                self.admin_site.admin_view(self.sample_view),
                name="generator_trainingrun_sample",
            ),
            path(
                "<int:pk>/painting",
                self.admin_site.admin_view(self.painting_view),
                name="generator_trainingrun_painting",
            ),
            path(
                "<int:pk>/cancel/",
                self.admin_site.admin_view(require_POST(self.cancel_view)),
                name="generator_trainingrun_cancel",
            ),
        ]
        return own + super().get_urls()

    def _viewable(self, request: HttpRequest, pk: int) -> TrainingRun:
        run = get_object_or_404(TrainingRun, pk=pk)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return run

    def status_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        return JsonResponse(self.live(self._viewable(request, pk)))

    def sample_view(self, request: HttpRequest, pk: int, step: int, i: int) -> FileResponse:
        run = self._viewable(request, pk)
        names: list[str] = next((s["pictures"] for s in run.samples if s["step"] == step), [])
        if not 0 <= i < len(names):
            raise Http404
        return send_file(FieldFile(run, run.painting.field, names[i]))  # a name the worker wrote, never the URL's

    def painting_view(self, request: HttpRequest, pk: int) -> FileResponse:
        return send_file(self._viewable(request, pk).painting)

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        run = self._viewable(request, pk)
        if not self.may_cancel(request, run):
            if run.is_finished:
                self.message_user(request, _("The run had already finished."), messages.WARNING)
                return HttpResponseRedirect(reverse("admin:generator_trainingrun_change", args=[pk]))
            raise PermissionDenied
        run = services.training_cancel(run=run)
        self.log_change(request, run, "cancel requested")
        if run.status == TrainingRun.Status.CANCELLED:
            message = _("“%(run)s” is cancelled.") % {"run": run.name}
        else:
            message = _("“%(run)s” stops within seconds.") % {"run": run.name}
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:generator_trainingrun_change", args=[pk]))
