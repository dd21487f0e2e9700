from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from generator import views


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> FileResponse:
    """Browsers ask for /favicon.ico whatever a page links (the admin's pages, a picture opened on its own)."""
    icon = finders.find("favicon.ico")
    if icon is None:
        raise Http404
    return FileResponse(open(icon, "rb"), content_type="image/x-icon")


urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/signup/", views.signup, name="signup"),
    # the password forms, each posted at most ARTSTUDIO_RATE_LOGIN times an hour from one address
    path("accounts/login/", views.throttled(auth_views.LoginView.as_view()), name="login"),
    path("accounts/password_reset/", views.throttled(auth_views.PasswordResetView.as_view()), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("assistant/", include("assistant.urls")),
    path("", include("api.urls")),
    path("", include("gallery.urls")),
    path("", include("generator.urls")),
]
