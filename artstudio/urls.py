from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from generator import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/signup/", views.signup, name="signup"),
    # the password forms, each posted at most ARTSTUDIO_RATE_LOGIN times an hour from one address
    path("accounts/login/", views.throttled(auth_views.LoginView.as_view()), name="login"),
    path("accounts/password_reset/", views.throttled(auth_views.PasswordResetView.as_view()), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("assistant/", include("assistant.urls")),
    path("", include("generator.urls")),
]
