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
