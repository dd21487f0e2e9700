"""The Celery app: ``celery -A artstudio worker -Q gpu,cpu -P prefork -c 1 -l info``.

Settings come from Django's settings under the ``CELERY_`` prefix. The worker's parent process
imports the task modules but never torch: each child warms the engine after the fork
(``generator.tasks.warm_engine``), because a CUDA context does not survive ``fork()``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artstudio.settings")

app = Celery("artstudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Registers the worker's remote-control commands (the admin's worker dashboard asks them). Imported
# here, not autodiscovered, so every process that loads the app knows them: the worker, which answers,
# and `celery -A artstudio inspect artstudio_device`. The module reads settings only when asked.
import generator.worker_status  # noqa: E402, F401
