"""WSGI entry point: ``gunicorn artstudio.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artstudio.settings")

application = get_wsgi_application()
