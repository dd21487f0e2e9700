from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from generator.ml.options import BRUSH, SIDE, STRENGTH, STUDIO_SIDES, JobOptions
from generator.models import Mode


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("E-mail"), required=True, help_text=_("Used only to reset your password."))

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # the stubs leave out the form's Meta
        model = User
        fields = ("username", "email")


class StudioForm(forms.Form):
    """What the studio page posts. Upload contents are checked by services.job_create, not here."""

    photo = forms.FileField(label=_("Photo"))
    style_source = forms.ChoiceField(
        label=_("Style"),
        choices=[("preset", _("A built-in style")), ("upload", _("My own painting"))],
        initial="preset",
        widget=forms.RadioSelect,
    )
    style_preset = forms.ChoiceField(
        label=_("Built-in style"), required=False, initial="starry-night", widget=forms.RadioSelect
    )
    style_image = forms.FileField(label=_("Painting"), required=False)
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

    def __init__(self, *args, presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["style_preset"].choices = [(p.slug, p.name) for p in presets]  # the database's presets

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        if data.get("style_source") == "upload":
            data["style_preset"] = None
            if not data.get("style_image"):
                self.add_error("style_image", _("Upload a painting to use as the style, or pick a built-in one."))
        else:
            data["style_image"] = None
            if not data.get("style_preset"):
                self.add_error("style_preset", _("Pick one of the built-in styles."))
        return data

    def options(self) -> JobOptions:
        """The job's options, from a valid form."""
        data = self.cleaned_data
        return JobOptions(
            style_preset=data["style_preset"],
            strength=data["strength"],
            brush=data["brush"],
            preserve_colors=data["preserve_colors"],
            max_side=data["max_side"],
            mode=data["mode"],
        )
