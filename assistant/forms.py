from django import forms
from django.utils.translation import gettext_lazy as _

from assistant.ml.text import MAX_CHARS


class IdeaText(forms.CharField):
    def to_python(self, value):
        # The service cleans control characters out of an idea; Django would refuse a NUL before it could
        return super().to_python((value or "").replace("\x00", " "))


class IdeaForm(forms.Form):
    # Checked by the service (assistant.ml.text.check): empty, too long and symbols-only get one message each
    text = IdeaText(
        label=_("Your idea"),
        required=False,
        max_length=MAX_CHARS * 5,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    picture = forms.FileField(label=_("…or a picture"), required=False)
