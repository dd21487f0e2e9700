from __future__ import annotations

from rest_framework.pagination import CursorPagination


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
