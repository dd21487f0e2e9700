# Artstudio: one image for the web server and both workers (docker-compose.yml says which runs).
# torch comes from PyPI, whose Linux wheels carry CUDA, so the same image serves the GPU worker. Every
# distribution is the one uv.lock pins, each a wheel.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_PROJECT_ENVIRONMENT=/usr/local \
    DJANGO_SETTINGS_MODULE=artstudio.settings \
    ARTSTUDIO_DATA_DIR=/data

RUN groupadd --system --gid 1000 artstudio \
    && useradd --system --uid 1000 --gid artstudio --home-dir /app --shell /usr/sbin/nologin artstudio

WORKDIR /app

# Dependencies first, in their own layer: code changes do not reinstall torch. uv installs into the image's
# own Python (UV_PROJECT_ENVIRONMENT), exactly what the lock pins.
COPY pyproject.toml uv.lock README.md ./
RUN pip install uv==0.13.8 && uv sync --locked --no-install-project

# The project, installed in place: settings find templates/ and static/ next to the package.
COPY . .
RUN uv sync --locked

# Build-time state that belongs to the image, not to a volume: hashed static files for whitenoise and
# the shipped networks, read once from the installed wheels into safetensors (the `migrate` service's
# `models import` makes them model versions in the database). The key below only lets settings load
# for collectstatic; the containers get the real one from .env.
RUN mkdir -p /data/media \
    && DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
       python -m django collectstatic --noinput -v 0 \
    && python -m generator.ml.weights export /data/cache/shipped-weights \
    && chown -R artstudio:artstudio /data

USER artstudio
EXPOSE 8000
CMD ["gunicorn", "artstudio.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", "--error-logfile", "-", "--forwarded-allow-ips", "*", "--no-control-socket"]
