"""The Celery app: ``celery -A artstudio worker -Q gpu,cpu -P prefork -c 1 -l info``.

Settings come from Django's settings under the ``CELERY_`` prefix. The worker's parent process
imports the task modules but never torch: each child warms the engine after the fork
(``generator.worker_process.warm_engine``), because a CUDA context does not survive ``fork()``.
"""

import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artstudio.settings")

app = Celery("artstudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Registers the worker's remote-control commands (the admin's worker dashboard asks them). Imported
# here, not autodiscovered, so every process that loads the app knows them: the worker, which answers,
# and `celery -A artstudio inspect artstudio_device`. The module reads settings only when asked.
# Connects the worker's start-up hooks (its queues, the children's threads and warm-up) for the same reason.
import generator.worker_process  # noqa: E402, F401
import generator.worker_status  # noqa: E402, F401


class JobTick(bootsteps.StartStopStep):
    """Every worker's main process runs the scheduler's tick (generator/scheduler.py) on the worker's own
    timer: once a second after start, which is what brings back the jobs of a worker that was killed and
    started again, then every ARTSTUDIO_TICK_SECONDS. No torch here: only the database and the broker."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timers = []

    def start(self, worker) -> None:
        from django.conf import settings

        from generator.worker_process import tick

        self.timers = [
            worker.timer.call_after(1.0, tick),
            worker.timer.call_repeatedly(settings.ARTSTUDIO_TICK_SECONDS, tick),
        ]

    def stop(self, worker) -> None:
        for timer in self.timers:
            timer.cancel()


app.steps["worker"].add(JobTick)
