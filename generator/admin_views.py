"""Admin pages that are not a model's changelist. Wired in by the admin's URLs, wrapped in admin_view."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from generator.worker_status import dashboard_context


def workers_view(request: HttpRequest) -> TemplateResponse:
    """The worker dashboard: queues and their waiting messages, each online worker and what it runs.

    Staff only through ``admin.site.admin_view(workers_view)``; on its own it checks nothing.
    """
    context = {**admin.site.each_context(request), "title": _("Workers"), **dashboard_context()}
    return TemplateResponse(request, "admin/generator/workers.html", context)
