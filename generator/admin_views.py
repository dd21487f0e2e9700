"""Admin pages that are not a model's changelist. Wired in by the admin's URLs, wrapped in admin_view."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from generator.models import Job
from generator.worker_status import WorkerInfo, dashboard_context


def workers_view(request: HttpRequest) -> TemplateResponse:
    """The worker dashboard: queues and their waiting messages, each online worker and what it runs.

    Staff only through ``admin.site.admin_view(workers_view)``; on its own it checks nothing.
    """
    context = {**admin.site.each_context(request), "title": _("Workers"), **dashboard_context()}
    _name_the_jobs(context["workers"])
    return TemplateResponse(request, "admin/generator/workers.html", context)


def _name_the_jobs(workers: list[WorkerInfo]) -> None:
    """Each active task's job: a task names only its queue (generator/scheduler.py), and the job records the
    "host:pid" of the pool child that claimed it."""
    tasks = {
        f"{worker.name.partition('@')[2]}:{task['worker_pid']}": task
        for worker in workers
        for task in worker.active
        if task.get("worker_pid")
    }
    for claim, pk in Job.objects.filter(status=Job.Status.RUNNING, worker__in=tasks).values_list("worker", "pk"):
        tasks[claim]["job"] = pk
