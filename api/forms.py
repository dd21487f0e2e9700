from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from api.models import Scope

DAYS = [(0, _("never")), (7, _("in a week")), (30, _("in 30 days")), (90, _("in 90 days")), (365, _("in a year"))]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("What it is for, e.g. “my backup script”."))
    scopes = forms.MultipleChoiceField(
        label=_("It may"), widget=forms.CheckboxSelectMultiple, initial=[Scope.READ], choices=Scope.choices
    )
    days = forms.TypedChoiceField(label=_("It ends"), choices=DAYS, coerce=int, initial=90)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)
        if not user.is_staff:  # the admin scope is staff's only: not offered to anybody else
            scopes.choices = [c for c in Scope.choices if c[0] != Scope.ADMIN]
