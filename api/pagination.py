from __future__ import annotations

from rest_framework.pagination import CursorPagination as DrfCursorPagination

from api import query


class CursorPagination(DrfCursorPagination):
    """A `limit` that is not a whole number from 1 is a 400 (above the most a page holds, the most)."""

    def get_page_size(self, request) -> int:
        limit = query.whole_number(request, self.page_size_query_param, minimum=1)
        return self.page_size if limit is None else min(limit, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class ViewCursor(CursorPagination):
    """Lists page by cursor (stable while pictures are added), in the order the view asks for (`ordering_for`)."""

    page_size = 48
    page_size_query_param = "limit"
    max_page_size = 200

    def get_ordering(self, request, queryset, view):
        return view.ordering_for(request) if hasattr(view, "ordering_for") else ("-created", "-id")


class NewestFirst(CursorPagination):
    page_size = 48
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = ("-created", "-id")


class InOrder(CursorPagination):
    """The artist's own order (boards)."""

    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = ("position", "created", "id")


class OldestRequestFirst(CursorPagination):
    """The moderation queue: who asked first is answered first."""

    page_size = 48
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = ("requested", "id")
