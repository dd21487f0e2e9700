from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generator import held
from generator.ml.options import (
    BLEND_PARTS,
    BLEND_WEIGHT,
    BRUSH,
    PAINTING_PART,
    SIDE,
    STRENGTH,
    STUDIO_SIDES,
    JobOptions,
)
from generator.models import Mode
from generator.uploads import CheckedImage


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("E-mail"), required=True, help_text=_("Used only to reset your password."))

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # the stubs leave out the form's Meta
        model = User
        fields = ("username", "email")


BLEND_SLOTS = (1, 2, 3)


class StudioForm(forms.Form):
    """What the studio page posts. Upload contents are checked by services.job_create, not here."""

    photo = forms.FileField(label=_("Photo"), required=False)  # or the held one (generator/held.py)
    held_photo = forms.CharField(required=False, widget=forms.HiddenInput)
    held_style = forms.CharField(required=False, widget=forms.HiddenInput)
    style_source = forms.ChoiceField(
        label=_("Style"),
        choices=[("preset", _("A built-in style")), ("upload", _("My own painting")), ("blend", _("A blend"))],
        initial="preset",
        widget=forms.RadioSelect,
    )
    style_preset = forms.ChoiceField(
        label=_("Built-in style"), required=False, initial="starry-night", widget=forms.RadioSelect
    )
    style_image = forms.FileField(label=_("Painting"), required=False)
    # A blend: two or three styles (a preset, or the painting uploaded above), each with a weight
    blend_1 = forms.ChoiceField(label=_("First style"), required=False)
    blend_1_weight = forms.FloatField(label=_("Weight"), required=False, min_value=0, max_value=1)
    blend_2 = forms.ChoiceField(label=_("Second style"), required=False)
    blend_2_weight = forms.FloatField(label=_("Weight"), required=False, min_value=0, max_value=1)
    blend_3 = forms.ChoiceField(label=_("Third style (optional)"), required=False)
    blend_3_weight = forms.FloatField(label=_("Weight"), required=False, min_value=0, max_value=1)
    strength = forms.FloatField(
        label=_("Strength"),
        min_value=STRENGTH.low,
        max_value=STRENGTH.high,
        initial=STRENGTH.default,
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
    )
    brush = forms.FloatField(
        label=_("Brush size"),
        min_value=BRUSH.low,
        max_value=BRUSH.high,
        initial=BRUSH.default,
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.25"}),
    )
    preserve_colors = forms.BooleanField(label=_("Keep the photo's colours"), required=False)
    max_side = forms.TypedChoiceField(
        label=_("Output size"),
        coerce=int,
        initial=int(SIDE.default),
        choices=[(side, f"{side} px") for side in STUDIO_SIDES],
    )
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, initial=Mode.FAST, widget=forms.RadioSelect)

    def __init__(self, *args, presets=(), owner: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        style_preset = self.fields["style_preset"]
        assert isinstance(style_preset, forms.ChoiceField)
        style_preset.choices = [(p.slug, gettext(p.name)) for p in presets]  # the database's presets
        for i in BLEND_SLOTS:
            part = self.fields[f"blend_{i}"]
            assert isinstance(part, forms.ChoiceField)
            part.choices = [("", "—"), (PAINTING_PART, _("My own painting")), *style_preset.choices]

    def held(self, name: str) -> str:
        """The token of a picture held for this field ("photo", "style"), if it is still good; else ""."""
        token = self.data.get(f"held_{name}", "") if self.is_bound else self.initial.get(f"held_{name}", "")
        return token if token and held.held_name(owner=self.owner, token=token) else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        if not data.get("photo") and not self.held("photo") and "photo" not in self.errors:
            self.add_error("photo", _("Choose a photo to paint."))
        source = data.get("style_source")
        data["blend"] = ()
        if source == "blend":
            data["style_preset"] = None
            data["blend"] = parts = tuple(
                (
                    data[f"blend_{i}"],
                    BLEND_WEIGHT.default if data.get(f"blend_{i}_weight") is None else data[f"blend_{i}_weight"],
                )
                for i in BLEND_SLOTS
                if data.get(f"blend_{i}")
            )
            if len(parts) < BLEND_PARTS[0] or len({p for p, _ in parts}) < len(parts):
                self.add_error("blend_1", _("Pick two or three different styles to blend."))
            uses_painting = any(p == PAINTING_PART for p, _ in parts)
            if not uses_painting:
                data["style_image"] = None
            elif not data.get("style_image") and not self.held("style"):
                self.add_error("style_image", _("Upload the painting the blend names."))
        elif source == "upload":
            data["style_preset"] = None
            if not data.get("style_image") and not self.held("style"):
                self.add_error("style_image", _("Upload a painting to use as the style, or pick a built-in one."))
        else:
            data["style_image"] = None
            if not data.get("style_preset"):
                self.add_error("style_preset", _("Pick one of the built-in styles."))
        return data

    def pictures(self) -> tuple[UploadedFile | CheckedImage, UploadedFile | CheckedImage | None]:
        """The photo and the painting (None for a built-in style) of a valid form: new uploads, else held ones."""
        data = self.cleaned_data

        def picture(upload: UploadedFile | None, name: str) -> UploadedFile | CheckedImage | None:
            if upload:
                return upload
            token = self.held(name)
            return held.held_image(owner=self.owner, token=token) if token else None

        photo = picture(data.get("photo"), "photo")
        assert photo is not None  # clean() refused a form without one
        wants_painting = data.get("style_source") == "upload" or any(p == PAINTING_PART for p, _ in data["blend"])
        painting = picture(data.get("style_image"), "style") if wants_painting else None
        return photo, painting

    def options(self) -> JobOptions:
        """The job's options, from a valid form."""
        data = self.cleaned_data
        return JobOptions(
            style_preset=data["style_preset"],
            blend=data["blend"],
            strength=data["strength"],
            brush=data["brush"],
            preserve_colors=data["preserve_colors"],
            max_side=data["max_side"],
            mode=data["mode"],
        )
