"""The worker queues, as data: settings, routing, the launcher's worker command and the warm-up read them.

No model imports here: settings.py imports this module before the app registry is ready.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Queue(TextChoices):
    # Quality mode and big prints: the GPU worker when there is one.
    GPU = "gpu", _("GPU")
    # Fast jobs up to ARTSTUDIO_CPU_MAX_SIDE, and upload validation: a CPU is enough.
    CPU = "cpu", _("CPU")
    # The assistant's language model: its own worker process, so a long piece of writing never
    # holds a style job back (classification is quick and runs on "cpu").
    TEXT = "text", _("Text")
