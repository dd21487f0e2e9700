from django.contrib import admin
from django.urls import include, path

from generator import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("assistant/", include("assistant.urls")),
    path("", include("generator.urls")),
]
