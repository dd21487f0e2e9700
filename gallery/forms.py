"""The gallery's forms: the view (search, filters, sort) read from the address, and the small edit forms."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gallery import selectors
from gallery.models import NAME_LENGTH, TAG_LENGTH
from generator.models import Mode


class ViewForm(forms.Form):
    """The gallery's address: `?q=sea&style=the-shipwreck&sort=title`. A value that does not parse is
    dropped with a note (the page still shows), never a server error."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    style = forms.ChoiceField(label=_("Style"), required=False)
    mode = forms.ChoiceField(label=_("Mode"), required=False, choices=[("", _("Any mode")), *Mode.choices])
    version = forms.TypedChoiceField(label=_("Model version"), required=False, coerce=int, empty_value=None)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    board = forms.TypedChoiceField(label=_("Board"), required=False, coerce=int, empty_value=None)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=TAG_LENGTH)
    starred = forms.BooleanField(label=_("Starred only"), required=False)
    public = forms.BooleanField(label=_("Public only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[(k, label) for k, (label, _o) in selectors.SORTS.items()]
    )

    def __init__(self, data, *, user: User):
        super().__init__(data, label_suffix="")
        self._choices(
            "style",
            ("", _("Any style")),
            *((slug, gettext(name)) for slug, name in selectors.style_names()),  # shipped names are translated
            (selectors.PAINTING, _("My own paintings")),
        )
        self._choices("version", ("", _("Any version")), *((v.pk, str(v)) for v in selectors.painting_versions()))
        self._choices("board", ("", _("Any board")), *selectors.board_names(user=user))

    def _choices(self, name: str, *choices: tuple[Any, Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = list(choices)

    def view(self) -> selectors.GalleryView:
        """The view the address asks for, leaving out any value that did not parse."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return selectors.GalleryView(
            q=" ".join((data.get("q") or "").split()),
            style=data.get("style") or "",
            mode=data.get("mode") or "",
            version=data.get("version"),
            since=data.get("since"),
            until=data.get("until"),
            board=data.get("board"),
            tag=data.get("tag") or "",
            starred=bool(data.get("starred")),
            public=bool(data.get("public")),
            sort=data.get("sort") or "new",
        )


class BoardForm(forms.Form):
    name = forms.CharField(label=_("Board name"), max_length=NAME_LENGTH)


class BulkForm(forms.Form):
    """What the gallery's selection bar posts: the chosen pictures and what to do with them."""

    ACTIONS = [
        ("board", _("Add to board")),
        ("tag", _("Tag")),
        ("star", _("Star")),
        ("unstar", _("Remove star")),
        ("public", _("Make public")),
        ("private", _("Make private")),
        ("delete", _("Delete")),
        ("zip", _("Download as zip")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=uuid.UUID)  # checked against the owner in the selector
    board = forms.IntegerField(required=False)
    tag = forms.CharField(required=False, max_length=TAG_LENGTH)
    next = forms.CharField(required=False)

    def __init__(self, data):
        super().__init__(data)
        self.fields["ids"].choices = [(i, i) for i in data.getlist("ids")]


class ShareForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("The link works"),
        coerce=int,
        choices=[(0, _("until I revoke it")), (1, _("for a day")), (7, _("for a week")), (30, _("for a month"))],
        initial=7,
    )
    allow_downloads = forms.BooleanField(label=_("Allow downloads of the full pictures"), required=False)


class ProfileForm(forms.Form):
    public_page = forms.BooleanField(
        label=_("Show my public page"),
        required=False,
        help_text=_("Your public pictures and boards, at an address anybody can open. Off by default."),
    )
    display_name = forms.CharField(label=_("Name shown on it"), required=False, max_length=80)
