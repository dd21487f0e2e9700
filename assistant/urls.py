from django.urls import path

from assistant import views

app_name = "assistant"

urlpatterns = [
    path("", views.ask, name="ask"),
    path("ideas/<uuid:pk>/", views.idea_detail, name="idea"),
    path("ideas/<uuid:pk>/status/", views.idea_status, name="idea-status"),
    path("ideas/<uuid:pk>/save/", views.idea_save, name="idea-save"),
    path("ideas/<uuid:pk>/cancel/", views.idea_cancel, name="idea-cancel"),
    path("ideas/<uuid:pk>/delete/", views.idea_delete, name="idea-delete"),
    path("ideas/<uuid:pk>/picture", views.idea_picture, name="idea-picture"),
]
