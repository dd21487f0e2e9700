from django.urls import path

from generator import views

app_name = "generator"

urlpatterns = [
    path("", views.home, name="home"),
    path("studio/", views.studio, name="studio"),
    path("studio/held/<str:token>", views.held_picture, name="held-picture"),
    path("jobs/", views.job_history, name="history"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job"),
    path("jobs/<uuid:pk>/delete/", views.job_delete, name="job-delete"),
    path("jobs/<uuid:pk>/status/", views.job_status, name="job-status"),
    path("jobs/<uuid:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<uuid:pk>/retry/", views.job_retry, name="job-retry"),
    path("jobs/<uuid:pk>/photo", views.job_file, {"kind": "photo"}, name="job-photo"),
    path("jobs/<uuid:pk>/style", views.job_file, {"kind": "style"}, name="job-style"),
    path("jobs/<uuid:pk>/preview", views.job_file, {"kind": "preview"}, name="job-preview"),
    path("jobs/<uuid:pk>/thumbnail.webp", views.job_file, {"kind": "thumbnail"}, name="job-thumbnail"),
    path("presets/<slug:slug>/thumbnail.webp", views.preset_thumbnail, name="preset-thumbnail"),
    path("artworks/<uuid:pk>/image.png", views.artwork_file, {"kind": "image"}, name="artwork-image"),
    path("artworks/<uuid:pk>/thumbnail.webp", views.artwork_file, {"kind": "thumbnail"}, name="artwork-thumbnail"),
]
